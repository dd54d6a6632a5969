#!/usr/bin/env bash
# Wait until the add-ons and the application are ready, each wait bounded by
# WAIT_TIMEOUT seconds (default 300). On a timeout it says what is probably wrong and
# which command shows it, then exits 1.
#
#   scripts/k8s/wait.sh [all|addons|app]   (task wait)
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# rollout NAMESPACE KIND/NAME SELECTOR WHAT
rollout() {
  local ns=$1 obj=$2 sel=$3 what=$4 started
  started=$(date +%s)
  if ! kc -n "$ns" get "$obj" -o name >/dev/null 2>&1; then
    log "$what ($obj in $ns) does not exist"
    hint "it was not deployed" "task deploy"
    exit 1
  fi
  if kc -n "$ns" rollout status "$obj" --timeout="${WAIT_TIMEOUT}s" >/dev/null; then
    log "$what ready ($(($(date +%s) - started))s)"
    return 0
  fi
  log "$what ($obj in namespace $ns) not ready after ${WAIT_TIMEOUT}s"
  explain_pods "$ns" "$sel" "$what"
  exit 1
}

metrics_api() {
  kc get --raw /apis/metrics.k8s.io/v1beta1/nodes
}

wait_addons() {
  rollout projectcontour deployment/contour app=contour "Contour (ingress controller)"
  rollout projectcontour daemonset/envoy app=envoy "Envoy (ingress proxy)"
  rollout kube-system deployment/metrics-server k8s-app=metrics-server "metrics-server"
  if ! poll "$WAIT_TIMEOUT" "the metrics API (metrics.k8s.io)" metrics_api; then
    hint "metrics-server runs but cannot scrape the kubelets (without --kubelet-insecure-tls the HPA shows <unknown>)" \
      "kubectl --context $KUBE_CONTEXT -n kube-system logs deploy/metrics-server --tail=30" \
      "kubectl --context $KUBE_CONTEXT get apiservice v1beta1.metrics.k8s.io"
    exit 1
  fi
  log "metrics API answering"
}

wait_app() {
  rollout "$NAMESPACE" statefulset/postgres app.kubernetes.io/name=postgres PostgreSQL
  rollout "$NAMESPACE" deployment/redis app.kubernetes.io/name=redis Redis
  rollout "$NAMESPACE" deployment/backend app.kubernetes.io/name=backend backend
  rollout "$NAMESPACE" deployment/frontend app.kubernetes.io/name=frontend frontend
}

need_cmd kubectl "install kubectl: https://kubernetes.io/docs/tasks/tools/"
need_cmd kind "install kind: https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
require_cluster
case ${1:-all} in
all)
  wait_addons
  wait_app
  ;;
addons) wait_addons ;;
app) wait_app ;;
*) die "usage: $0 [all|addons|app]" ;;
esac
