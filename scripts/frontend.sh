#!/usr/bin/env bash
# nginx in front of the local backend: the static site from frontend/public and /api/ proxied.
#
#   scripts/frontend.sh start    render the config and start nginx (idempotent)
#   scripts/frontend.sh stop     stop it (pid file)
#   scripts/frontend.sh render   render the config and check it with `nginx -t`; prints its path
#   scripts/frontend.sh status   say whether it runs
#
# Environment: STACK_DIR (default <repo>/.local), FRONTEND_PORT (8081),
# BACKEND_URL (http://127.0.0.1:${SERVER_PORT:-8080}), AUTOSCALER_URL (autoscaler-view for
# /api/autoscaler; empty: that location answers a JSON 503), NGINX_WORKER_PROCESSES (2).
# Everything nginx writes stays in $STACK_DIR/nginx (pid, temp files) and $STACK_DIR/logs.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STACK_DIR=${STACK_DIR:-$ROOT/.local}
FRONTEND_PORT=${FRONTEND_PORT:-8081}
BACKEND_URL=${BACKEND_URL:-http://127.0.0.1:${SERVER_PORT:-8080}}
AUTOSCALER_URL=${AUTOSCALER_URL:-}
PREFIX=$STACK_DIR/nginx
CONF=$PREFIX/nginx.conf
PIDFILE=$PREFIX/nginx.pid
LOGDIR=$STACK_DIR/logs
ERROR_LOG=$LOGDIR/nginx-error.log
URL=http://127.0.0.1:$FRONTEND_PORT

need_nginx() {
  command -v nginx >/dev/null 2>&1 || die "nginx not found: apt-get install -y nginx-light"
}

# render_to FILE: the template rendered for the local stack.
render_to() {
  LISTEN_ADDRESS=127.0.0.1 \
    LISTEN_PORT=$FRONTEND_PORT \
    BACKEND_URL=$BACKEND_URL \
    AUTOSCALER_URL=$AUTOSCALER_URL \
    SITE_ROOT=$ROOT/frontend/public \
    NGINX_ACCESS_LOG=$LOGDIR/nginx-access.log \
    NGINX_ERROR_LOG=$ERROR_LOG \
    NGINX_WORKER_PROCESSES=${NGINX_WORKER_PROCESSES:-2} \
    "$ROOT/frontend/nginx/render.sh" >"$1" || die "could not render the nginx configuration"
}

# check FILE: nginx -t, with its output only on failure.
check() {
  local out
  if ! out=$(nginx -t -p "$PREFIX/" -c "$1" -e "$ERROR_LOG" 2>&1); then
    printf '%s\n' "$out" >&2
    die "nginx -t rejected $1"
  fi
}

render() {
  need_nginx
  mkdir -p "$PREFIX" "$LOGDIR"
  render_to "$CONF.tmp"
  mv "$CONF.tmp" "$CONF"
  check "$CONF"
}

start() {
  need_nginx
  require_access nobody "nginx (its worker processes)" "$ROOT/frontend/public"
  if pid_alive "$PIDFILE"; then
    # Running: apply a changed template or environment with a reload, else leave it alone.
    render_to "$CONF.new"
    if cmp -s "$CONF.new" "$CONF"; then
      rm -f "$CONF.new"
      log "frontend: nginx already running (pid $(cat "$PIDFILE")) on $URL; nothing to do"
      return 0
    fi
    check "$CONF.new"
    mv "$CONF.new" "$CONF"
    kill -HUP "$(cat "$PIDFILE")"
    log "frontend: configuration changed; nginx (pid $(cat "$PIDFILE")) reloaded"
    return 0
  fi
  port_busy "$FRONTEND_PORT" && die "port $FRONTEND_PORT is in use: set FRONTEND_PORT to a free port"
  render
  nginx -p "$PREFIX/" -c "$CONF" -e "$ERROR_LOG" || die "nginx did not start (see $ERROR_LOG)"
  if ! wait_http "$URL/healthz" 10; then
    tail -n 20 "$ERROR_LOG" >&2 || true
    die "nginx did not answer on $URL/healthz within 10 s"
  fi
  log "frontend: nginx (pid $(cat "$PIDFILE")) on $URL -> backend $BACKEND_URL, autoscaler view ${AUTOSCALER_URL:-(none)}; logs in $LOGDIR/nginx-*.log"
}

stop() {
  if pid_alive "$PIDFILE"; then
    log "frontend: stopping nginx (pid $(cat "$PIDFILE"))"
    stop_pidfile "$PIDFILE" 10
  else
    rm -f "$PIDFILE"
  fi
}

status() {
  if pid_alive "$PIDFILE"; then
    echo "frontend: running (pid $(cat "$PIDFILE")) on $URL"
  else
    echo "frontend: not running"
    return 1
  fi
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  render)
    render
    echo "$CONF"
    ;;
  status) status ;;
  *)
    echo "usage: $0 start|stop|render|status" >&2
    exit 2
    ;;
esac
