#!/usr/bin/env bash
# stack.sh up|down|reset|status|run - the whole stack on loopback, state under $STACK_DIR.
#   up      install what is missing, build, start PostgreSQL, Redis, the backend, the
#           autoscaler view (local mode) and the frontend's nginx, print the URLs. Idempotent.
#   down    stop everything it started (data stays)
#   reset   down, then delete $STACK_DIR
#   status  what runs, with pids and ports
#   run     up, then follow the backend log in the foreground; Ctrl-C stops everything
# Ports: SERVER_PORT (8080), FRONTEND_PORT (8081), VIEW_PORT (8082), PG_PORT (5433), REDIS_PORT (6380).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

STACK_DIR=${STACK_DIR:-$ROOT/.local}
SERVER_PORT=${SERVER_PORT:-8080}
FRONTEND_PORT=${FRONTEND_PORT:-8081}
PG_PORT=${PG_PORT:-5433}
REDIS_PORT=${REDIS_PORT:-6380}
VIEW_PORT=${VIEW_PORT:-8082}
BACKEND_BIN=${BACKEND_BIN:-$ROOT/backend/build/release/backend}
VIEW_BIN=${VIEW_BIN:-$ROOT/backend/build/release/autoscaler-view}
export STACK_DIR SERVER_PORT FRONTEND_PORT VIEW_PORT PG_PORT REDIS_PORT BACKEND_BIN VIEW_BIN

backend_pidfile=$STACK_DIR/backend.pid
view_pidfile=$STACK_DIR/autoscaler-view.pid

start_backend() {
  if pid_alive "$backend_pidfile"; then
    log "backend already running (pid $(cat "$backend_pidfile"))"
    return 0
  fi
  port_busy "$SERVER_PORT" && die "port $SERVER_PORT is in use; set SERVER_PORT to another port"
  mkdir -p "$STACK_DIR/logs"
  # setsid: the backend must not receive the terminal's Ctrl-C meant for 'make run'.
  stack_env "$SERVER_PORT" "${POD_NAME:-$(hostname)-local}"
  env "${STACK_ENV[@]}" SHUTDOWN_DRAIN_SECONDS="${SHUTDOWN_DRAIN_SECONDS:-0}" \
    setsid "$BACKEND_BIN" >>"$STACK_DIR/logs/backend.log" 2>&1 </dev/null &
  stack_track "$STACK_DIR" backend $!
  wait_http "http://127.0.0.1:$SERVER_PORT/health/ready" 30 ||
    die "backend not ready after 30s; see $STACK_DIR/logs/backend.log"
  log "backend ready on 127.0.0.1:$SERVER_PORT (pid $(cat "$backend_pidfile"))"
}

# The autoscaler view in local mode: the backend process above, read from /proc. Without
# KUBERNETES_SERVICE_HOST (unset here even inside a pod) it never talks to a Kubernetes API.
start_view() {
  if pid_alive "$view_pidfile"; then
    log "autoscaler-view already running (pid $(cat "$view_pidfile"))"
    return 0
  fi
  port_busy "$VIEW_PORT" && die "port $VIEW_PORT is in use; set VIEW_PORT to another port"
  env -u KUBERNETES_SERVICE_HOST -u KUBERNETES_SERVICE_PORT \
    SERVER_PORT="$VIEW_PORT" BIND_ADDRESS=127.0.0.1 SHUTDOWN_DRAIN_SECONDS=0 \
    LOCAL_PID_FILE="$backend_pidfile" LOCAL_BACKEND_URL="http://127.0.0.1:$SERVER_PORT" \
    setsid "$VIEW_BIN" >>"$STACK_DIR/logs/autoscaler-view.log" 2>&1 </dev/null &
  stack_track "$STACK_DIR" autoscaler-view $!
  wait_http "http://127.0.0.1:$VIEW_PORT/health/ready" 10 ||
    die "autoscaler-view not ready after 10s; see $STACK_DIR/logs/autoscaler-view.log"
  log "autoscaler-view ready on 127.0.0.1:$VIEW_PORT (pid $(cat "$view_pidfile"))"
}

up() {
  require_readable_checkout
  "$ROOT/scripts/install-deps.sh"
  make -s -C "$ROOT/backend" >/dev/null
  mkdir -p "$STACK_DIR/logs"
  local already=1
  pid_alive "$STACK_DIR/pg/data/postmaster.pid" || already=0
  pid_alive "$STACK_DIR/redis/redis.pid" || already=0
  pid_alive "$backend_pidfile" || already=0
  pid_alive "$view_pidfile" || already=0
  stack_start "$STACK_DIR" "$PG_PORT" "$REDIS_PORT"
  start_backend
  start_view
  if [ -x "$ROOT/scripts/frontend.sh" ]; then
    [ -f "$STACK_DIR/nginx/nginx.pid" ] && pid_alive "$STACK_DIR/nginx/nginx.pid" || already=0
    BACKEND_URL=http://127.0.0.1:$SERVER_PORT AUTOSCALER_URL=http://127.0.0.1:$VIEW_PORT \
      "$ROOT/scripts/frontend.sh" start
  fi
  [ "$already" = 1 ] && log "everything was already running; nothing changed"
  urls
}

urls() {
  cat <<MSG

  API        http://127.0.0.1:$SERVER_PORT/api/users
  Health     http://127.0.0.1:$SERVER_PORT/health
  Metrics    http://127.0.0.1:$SERVER_PORT/metrics
  Autoscaler http://127.0.0.1:$VIEW_PORT/api/autoscaler (autoscaler-view, local mode)
  PostgreSQL 127.0.0.1:$PG_PORT (user app, database webapp)
  Redis      127.0.0.1:$REDIS_PORT
  Logs       $STACK_DIR/logs/
MSG
  if [ -x "$ROOT/scripts/frontend.sh" ]; then
    printf '\n  Open http://127.0.0.1:%s\n' "$FRONTEND_PORT"
  fi
  echo
}

down() {
  if [ -x "$ROOT/scripts/frontend.sh" ]; then "$ROOT/scripts/frontend.sh" stop || true; fi
  stack_stop "$STACK_DIR"
  log "stack stopped (data kept in $STACK_DIR; 'make reset' deletes it)"
}

status() {
  local name file
  for name in backend:$backend_pidfile autoscaler-view:$view_pidfile postgres:$STACK_DIR/pg/data/postmaster.pid \
    redis:$STACK_DIR/redis/redis.pid nginx:$STACK_DIR/nginx/nginx.pid; do
    file=${name#*:}
    if pid_alive "$file"; then
      printf '%-16s running (pid %s)\n' "${name%%:*}" "$(head -n 1 "$file")"
    else
      printf '%-16s stopped\n' "${name%%:*}"
    fi
  done
}

run() {
  up
  trap 'echo; down; exit 0' INT TERM
  log "following the backend log; Ctrl-C stops everything"
  tail -n 0 -f "$STACK_DIR/logs/backend.log" &
  wait
}

case ${1:-} in
up) up ;;
down) down ;;
reset)
  down
  rm -rf "$STACK_DIR"
  log "deleted $STACK_DIR"
  ;;
status) status ;;
run) run ;;
*)
  sed -n '2,10p' "$0" >&2
  exit 2
  ;;
esac
