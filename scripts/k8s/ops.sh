#!/usr/bin/env bash
# Day-to-day views and actions on the running demo.
#
#   scripts/k8s/ops.sh status [pods|services|hpa|all]   (task status, status:*)
#   scripts/k8s/ops.sh hpa-watch                         (task hpa:watch)
#   scripts/k8s/ops.sh logs COMPONENT [--follow]         (task logs, logs:*)
#   scripts/k8s/ops.sh top pods|nodes                    (task top:pods, top:nodes)
#   scripts/k8s/ops.sh restart backend|frontend          (task restart:*)
#   scripts/k8s/ops.sh scale backend N                   (task scale:backend REPLICAS=N)
#   scripts/k8s/ops.sh port-forward COMPONENT            (task port:*)
# COMPONENT: backend, frontend, postgres, redis or load-generator.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_cmd kubectl "install kubectl: https://kubernetes.io/docs/tasks/tools/"

component() {
  case ${1:-} in
  backend | frontend | postgres | redis | load-generator) echo "$1" ;;
  *) die "expected backend, frontend, postgres, redis or load-generator (got '${1:-}')" ;;
  esac
}

status() {
  case ${1:-all} in
  pods) kn get pods -o wide ;;
  services) kn get services,endpointslices,ingress ;;
  hpa) kn get hpa backend-hpa ;;
  all)
    kn get deployments,statefulsets,pods,services,ingress,hpa,pdb -o wide
    echo
    kc -n projectcontour get pods -o wide 2>/dev/null || true
    ;;
  *) die "usage: $0 status [pods|services|hpa|all]" ;;
  esac
}

hpa_watch() {
  log "watching backend-hpa (Ctrl-C stops); start load in another terminal: task load:start"
  kn get hpa backend-hpa -w
}

logs() {
  local c follow=''
  c=$(component "${1:-backend}")
  [ "${2:-}" = --follow ] && follow=--follow
  # Every pod of the component, prefixed with its name: the backend logs one JSON line per request.
  kn logs -l "app.kubernetes.io/name=$c" --all-containers --prefix --tail=100 --max-log-requests=20 ${follow:+"$follow"}
}

top() {
  case ${1:-pods} in
  pods) kn top pods ;;
  nodes) kc top nodes ;;
  *) die "usage: $0 top pods|nodes" ;;
  esac
}

restart() {
  case ${1:-} in
  backend | frontend) ;;
  *) die "usage: $0 restart backend|frontend" ;;
  esac
  kn rollout restart "deployment/$1"
  kn rollout status "deployment/$1" --timeout="${WAIT_TIMEOUT}s"
}

scale() {
  local n=${2:-}
  [ "${1:-}" = backend ] || die "usage: $0 scale backend N"
  case $n in
  '' | *[!0-9]*) die "REPLICAS must be a number (got '$n')" ;;
  esac
  kn scale deployment/backend --replicas="$n"
  log "note: backend-hpa keeps the count between 2 and 10 and changes it with the CPU load"
}

port_forward() {
  local c svc port
  c=$(component "${1:-}")
  case $c in
  backend) svc=backend-service port=8080:8080 ;;
  frontend) svc=frontend-service port=8081:80 ;;
  postgres) svc=postgres-service port=5432:5432 ;;
  redis) svc=redis-service port=6379:6379 ;;
  *) die "no port to forward for $c" ;;
  esac
  log "forwarding 127.0.0.1:${port%%:*} to $svc (one pod only: use task load:start for load tests)"
  kn port-forward "service/$svc" "$port"
}

cmd=${1:-}
[ "$#" -gt 0 ] && shift
case $cmd in
status) status "$@" ;;
hpa-watch) hpa_watch ;;
logs) logs "$@" ;;
top) top "$@" ;;
restart) restart "$@" ;;
scale) scale "$@" ;;
port-forward) port_forward "$@" ;;
*) die "usage: $0 status|hpa-watch|logs|top|restart|scale|port-forward ..." ;;
esac
