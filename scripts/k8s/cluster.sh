#!/usr/bin/env bash
# The kind cluster: create (idempotent), delete, status.
#
#   scripts/k8s/cluster.sh create   (task cluster:create)
#   scripts/k8s/cluster.sh delete   (task cluster:delete)
#   scripts/k8s/cluster.sh status   (task cluster:status)
#
# The cluster comes from k8s/kind/cluster.yaml: the control-plane node is labelled
# ingress-ready=true and maps its ports 80/443 to this machine's 127.0.0.1, where Envoy
# (Contour) listens. INGRESS_HTTP_PORT / INGRESS_HTTPS_PORT choose other host ports for a
# new cluster; the cluster's mapping then remembers them for every later task (lib.sh,
# use_cluster_ports). The node image is pinned by digest in the config;
# KIND_NODE_IMAGE=kindest/node:vX.Y.Z@sha256:... overrides it.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# kind_config: the config to create the cluster with; a rendered copy when the host
# ports are not 80/443.
kind_config() {
  if [ "$INGRESS_HTTP_PORT" = 80 ] && [ "$INGRESS_HTTPS_PORT" = 443 ]; then
    echo "$KIND_CONFIG"
    return 0
  fi
  mkdir -p "$K8S_STATE_DIR"
  awk -v http="$INGRESS_HTTP_PORT" -v https="$INGRESS_HTTPS_PORT" '
    /^[[:space:]]*hostPort: 80$/ { sub(/80$/, http) }
    /^[[:space:]]*hostPort: 443$/ { sub(/443$/, https) }
    { print }' "$KIND_CONFIG" >"$K8S_STATE_DIR/kind-cluster.yaml"
  echo "$K8S_STATE_DIR/kind-cluster.yaml"
}

# check_existing: a cluster of that name exists; make sure it is one we can use.
check_existing() {
  local node=$CLUSTER_NAME-control-plane ports
  ports=$(docker port "$node" 2>/dev/null || true)
  case $ports in
  *"80/tcp -> "*) ;;
  *)
    log "cluster '$CLUSTER_NAME' exists but its node does not map port 80 to this machine"
    hint "it was created without k8s/kind/cluster.yaml (no extraPortMappings), so the ingress cannot be reached" \
      "docker port $node" \
      "task cluster:delete && task cluster:create"
    exit 1
    ;;
  esac
  # Make sure the context exists (another kubeconfig may have been in use since).
  kind export kubeconfig --name "$CLUSTER_NAME" >/dev/null 2>&1 || true
  if [ -z "$(kc get nodes -l ingress-ready=true -o name 2>/dev/null)" ]; then
    log "cluster '$CLUSTER_NAME' has no node labelled ingress-ready=true"
    hint "it was created from another config; Envoy only runs on that node" \
      "kubectl --context $KUBE_CONTEXT get nodes --show-labels" \
      "task cluster:delete && task cluster:create"
    exit 1
  fi
  use_cluster_ports
  log "cluster '$CLUSTER_NAME' already exists (context $KUBE_CONTEXT, ingress on 127.0.0.1:$INGRESS_HTTP_PORT and :$INGRESS_HTTPS_PORT): keeping it"
}

create() {
  need_cmd kind "install kind: https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
  need_cmd docker "install Docker: https://docs.docker.com/get-docker/"
  need_cmd kubectl "install kubectl: https://kubernetes.io/docs/tasks/tools/"
  if cluster_exists; then
    check_existing
    return 0
  fi
  local cfg args started
  cfg=$(kind_config)
  args=(create cluster --name "$CLUSTER_NAME" --config "$cfg" --wait 180s)
  if [ -n "${KIND_NODE_IMAGE:-}" ]; then
    args+=(--image "$KIND_NODE_IMAGE")
  fi
  started=$(date +%s)
  log "creating kind cluster '$CLUSTER_NAME' from ${cfg#"$ROOT"/} (a few minutes the first time: the node image is large)"
  if ! kind "${args[@]}"; then
    log "kind could not create the cluster"
    hint "port $INGRESS_HTTP_PORT or $INGRESS_HTTPS_PORT already in use, Docker short of memory, or inotify limits (Linux)" \
      "task doctor" \
      "docker ps -a --filter name=$CLUSTER_NAME"
    exit 1
  fi
  if ! kc wait --for=condition=Ready nodes --all --timeout=180s >/dev/null; then
    log "the nodes did not become Ready within 180s"
    hint "the network plugin or kubelet is failing on a node" \
      "kubectl --context $KUBE_CONTEXT get nodes" \
      "kubectl --context $KUBE_CONTEXT -n kube-system get pods"
    exit 1
  fi
  log "cluster '$CLUSTER_NAME' ready in $(($(date +%s) - started))s (context $KUBE_CONTEXT)"
}

delete() {
  need_cmd kind "install kind: https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
  if ! cluster_exists; then
    log "no kind cluster named '$CLUSTER_NAME': nothing to delete"
    return 0
  fi
  kind delete cluster --name "$CLUSTER_NAME"
  # The rendered overlays belonged to that cluster; the built tags and the downloaded
  # add-on manifests (pinned releases) stay valid.
  rm -rf "$K8S_STATE_DIR/deploy" "$K8S_STATE_DIR/load"
  log "cluster '$CLUSTER_NAME' deleted"
}

status() {
  need_cmd kind "install kind: https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
  if ! cluster_exists; then
    log "no kind cluster named '$CLUSTER_NAME' (task cluster:create)"
    return 1
  fi
  echo "cluster: $CLUSTER_NAME (context $KUBE_CONTEXT)"
  docker port "$CLUSTER_NAME-control-plane" 2>/dev/null | sed 's/^/  port /' || true
  kc get nodes -o wide
}

case ${1:-} in
create) create ;;
delete) delete ;;
status) status ;;
*) die "usage: $0 create|delete|status" ;;
esac
