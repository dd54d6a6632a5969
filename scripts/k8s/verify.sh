#!/usr/bin/env bash
# Smoke test of the deployed demo through the ingress, as a browser would reach it
# (http://webapp.local, resolved to 127.0.0.1 by curl itself: no hosts entry needed).
#
#   scripts/k8s/verify.sh   (task verify, task test:smoke)
#
# Checks: the page (frontend), /health/ready and /api/health (backend, paths unchanged by
# the ingress), a user created, read and deleted, a stress request, answers from more
# than one backend pod, and HPA CPU figures (not <unknown>).
#
# Right after the rollouts Envoy may not know the routes yet (connection refused, 404,
# 503 for a few seconds): the first checks are retried every VERIFY_RETRY_INTERVAL
# seconds (default 2) for up to VERIFY_WAIT seconds (default 90) before they fail.
# The port is the one the cluster maps (INGRESS_HTTP_PORT chosen at setup is remembered).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_cmd curl "install curl"
need_cmd kubectl "install kubectl: https://kubernetes.io/docs/tasks/tools/"

VERIFY_WAIT=${VERIFY_WAIT:-90}
VERIFY_RETRY_INTERVAL=${VERIFY_RETRY_INTERVAL:-2}
case $VERIFY_WAIT in '' | *[!0-9]*) die "VERIFY_WAIT must be a whole number of seconds (got '$VERIFY_WAIT')" ;; esac
printf '%s' "$VERIFY_RETRY_INTERVAL" | grep -Eq '^[0-9]+(\.[0-9]+)?$' ||
  die "VERIFY_RETRY_INTERVAL must be a number of seconds (got '$VERIFY_RETRY_INTERVAL')"

use_cluster_ports
base="http://$APP_HOST:$INGRESS_HTTP_PORT"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/webapp-verify.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
passed=0

# req METHOD PATH [JSON]: sets STATUS; body in $tmp/body, headers in $tmp/headers.
req() {
  local method=$1 path=$2 data=${3:-}
  local args=(-sS -m 15 -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}'
    --resolve "$APP_HOST:$INGRESS_HTTP_PORT:127.0.0.1" -X "$method" -H 'Accept: application/json')
  if [ -n "$data" ]; then
    args+=(-H 'Content-Type: application/json' --data "$data")
  fi
  : >"$tmp/body"
  : >"$tmp/headers"
  STATUS=$(curl "${args[@]}" "$base$path" 2>"$tmp/err") || STATUS=000
}

header() { # header NAME: its value in the last response
  awk -v n="$1" -F': ' \
    'tolower($1) == tolower(n) { sub(/\r$/, "", $2); print $2; exit }' "$tmp/headers"
}

fail() {
  log "verify FAILED: $1${retried:+ (still so after ${retried}s of retries; VERIFY_WAIT=$VERIFY_WAIT)}"
  shift
  if [ -s "$tmp/err" ]; then
    log "curl: $(cat "$tmp/err")"
  fi
  if [ -s "$tmp/body" ]; then
    log "body: $(head -c 300 "$tmp/body")"
  fi
  [ "$#" -gt 0 ] && hint "$@"
  exit 1
}

expect() { # expect WHAT STATUS [TEXT]: the last response had STATUS (and TEXT in its body)
  local what=$1 want=$2 text=${3:-}
  if [ "$STATUS" = 000 ]; then
    fail "$what: no answer from $base" \
      "Envoy is not listening on 127.0.0.1:$INGRESS_HTTP_PORT (not ready, or the cluster lacks the port mapping)" \
      "kubectl --context $KUBE_CONTEXT -n projectcontour get pods -o wide" \
      "docker port $CLUSTER_NAME-control-plane"
  fi
  if [ "$STATUS" != "$want" ]; then
    case $STATUS in
    404) fail "$what: got 404, expected $want" "the Ingress does not route this path (or rewrites it)" \
      "kubectl --context $KUBE_CONTEXT -n $NAMESPACE describe ingress webapp-ingress" ;;
    503) fail "$what: got 503, expected $want" "no ready pod behind the service, or the backend cannot reach PostgreSQL" \
      "kubectl --context $KUBE_CONTEXT -n $NAMESPACE get pods" \
      "kubectl --context $KUBE_CONTEXT -n $NAMESPACE logs deploy/backend --tail=30" ;;
    *) fail "$what: got $STATUS, expected $want" "see the body above" \
      "kubectl --context $KUBE_CONTEXT -n $NAMESPACE logs deploy/backend --tail=30" ;;
    esac
  fi
  if [ -n "$text" ] && ! grep -qi -- "$text" "$tmp/body"; then
    fail "$what: status $STATUS but the body lacks '$text'"
  fi
  passed=$((passed + 1))
  log "ok: $what"
}

# soon PATH STATUS [TEXT]: GET PATH until it answers STATUS (with TEXT in the body) or
# the deadline the first checks share passes; expect then judges the last answer.
retried=''
started=$(date +%s)
deadline=$((started + VERIFY_WAIT))
soon() {
  local path=$1 want=$2 text=${3:-} said=''
  retried=''
  while :; do
    req GET "$path"
    if [ "$STATUS" = "$want" ] && { [ -z "$text" ] || grep -qi -- "$text" "$tmp/body"; }; then
      [ -z "$said" ] || log "GET $path answers $want after $(($(date +%s) - started))s"
      return 0
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      [ "$VERIFY_WAIT" -eq 0 ] || retried=$(($(date +%s) - started))
      return 0
    fi
    if [ -z "$said" ]; then
      log "GET $path: $([ "$STATUS" = 000 ] && echo 'no answer' || echo "got $STATUS"); Envoy may still be learning the routes: retrying for up to $((deadline - $(date +%s)))s"
      said=1
    fi
    sleep "$VERIFY_RETRY_INTERVAL"
  done
}

soon / 200 "<html"
expect "GET / serves the page (frontend)" 200 "<html"
soon /health/ready 200 ready
expect "GET /health/ready (backend, path unchanged)" 200 ready
soon /api/health 200 database
expect "GET /api/health reports the database" 200 database
retried=''

email="smoke-$(date +%s)-$$@example.com"
req POST /api/users "{\"name\":\"Smoke Test\",\"email\":\"$email\"}"
expect "POST /api/users creates a user" 201 "$email"
location=$(header Location)
case $location in
/api/users/[0-9]*) ;;
*) fail "POST /api/users: Location header is '$location'" ;;
esac
req GET "$location"
expect "GET $location reads it back" 200 "$email"
req DELETE "$location"
expect "DELETE $location" 204
req GET "$location"
expect "GET $location after the delete" 404

req GET "/api/stress?ms=20"
expect "GET /api/stress runs a burn" 200 "Stress test completed"

# Several pods answer: Envoy balances over the backend's endpoints.
ready=$(kn get deployment backend -o jsonpath='{.status.readyReplicas}' 2>/dev/null || true)
pods=''
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  req GET /health/live
  [ "$STATUS" = 200 ] || expect "GET /health/live" 200
  pods="$pods
$(header X-Served-By)"
done
distinct=$(printf '%s\n' "$pods" | grep -v '^$' | sort -u | wc -l | tr -d ' ')
if [ "${ready:-0}" -ge 2 ] && [ "$distinct" -lt 2 ]; then
  fail "20 requests were all served by one pod although $ready backend pods are ready" \
    "the ingress does not balance over the endpoints" \
    "kubectl --context $KUBE_CONTEXT -n $NAMESPACE get endpointslices -l kubernetes.io/service-name=backend-service"
fi
passed=$((passed + 1))
log "ok: $distinct backend pod(s) answered 20 requests ($ready ready)"

# The HPA reads CPU figures (needs metrics-server and CPU requests on the backend).
hpa_cpu() {
  kn get hpa backend-hpa -o jsonpath='{.status.currentMetrics[0].resource.current.averageUtilization}' |
    grep -Eq '^[0-9]+$'
}
if ! poll "${HPA_WAIT:-120}" "backend-hpa to read CPU utilisation" hpa_cpu; then
  hint "metrics-server has no figures yet (it needs a scrape or two after the pods start), or it cannot scrape the kubelets" \
    "kubectl --context $KUBE_CONTEXT -n $NAMESPACE get hpa backend-hpa" \
    "kubectl --context $KUBE_CONTEXT -n $NAMESPACE top pods" \
    "kubectl --context $KUBE_CONTEXT -n kube-system logs deploy/metrics-server --tail=30"
  exit 1
fi
passed=$((passed + 1))
log "ok: backend-hpa reads CPU: $(kn get hpa backend-hpa -o jsonpath='{.status.currentMetrics[0].resource.current.averageUtilization}')% of requests"

log "verify: all $passed checks passed through $base"
