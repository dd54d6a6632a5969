#!/usr/bin/env bash
# End-to-end tests of the frontend: nginx -> backend -> PostgreSQL/Redis, started with
# scripts/stack.sh in a temporary STACK_DIR on free loopback ports (with the autoscaler view in
# local mode behind nginx's /api/autoscaler), driven by Chromium through playwright-core.
# autoscaler.test.mjs adds the cluster chain: a fake Kubernetes API server -> the autoscaler view
# in cluster mode -> a second nginx -> the page; a11y.test.mjs runs axe-core. Screenshots go to
# artifacts/. About 5 minutes on 2 cores shared with other work (load average about 20).
#
#   tests/e2e/run.sh            all of it
#   tests/e2e/run.sh NAME...    only the named files (e.g. unit autoscaler)
#   KEEP_E2E=1 tests/e2e/run.sh keep the temporary directory (logs) after the run
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/lib.sh"

HERE=$ROOT/tests/e2e
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
ARTIFACTS=$ROOT/artifacts

require_readable_checkout

# Tools: fail loudly with what to install, never skip.
command -v node >/dev/null || die "node not found: apt-get install -y nodejs npm"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' ||
  die "node $(node --version) is too old: node 18 or newer is needed for node --test"
[ -x "$CHROMIUM" ] || die "Chromium not found at $CHROMIUM: apt-get install -y chromium (or set CHROMIUM)"
command -v nginx >/dev/null || die "nginx not found: apt-get install -y nginx-light"
command -v curl >/dev/null || die "curl not found: apt-get install -y curl"
[ -d "$ROOT/node_modules/playwright-core" ] || die "playwright-core missing: run 'npm ci' in $ROOT"

TMP=$(stack_tmpdir e2e)
STACK_DIR=$TMP/stack
mapfile -t ports < <(free_ports 5)
[ ${#ports[@]} = 5 ] || die "no free port found"
export STACK_DIR
export SERVER_PORT=${ports[0]} FRONTEND_PORT=${ports[1]} PG_PORT=${ports[2]} REDIS_PORT=${ports[3]}
export VIEW_PORT=${ports[4]}
# What stack.sh gives nginx for /api/autoscaler, so that the tests that rerun scripts/frontend.sh
# (nginx.test.mjs) render the same configuration instead of one without the view.
export AUTOSCALER_URL=http://127.0.0.1:$VIEW_PORT
export POD_NAME=e2e-backend-1
# Two stress slots whatever the machine, as in each pod of the cluster (load.test.mjs).
export STRESS_SLOTS=2
# Where the cluster-chain tests find the view binary (tests/lib/view.mjs).
export VIEW_BIN=$ROOT/backend/build/release/autoscaler-view

cleanup() {
  local rc=$?
  "$ROOT/scripts/stack.sh" down >/dev/null 2>&1 || log "stack.sh down failed (see $STACK_DIR)"
  if [ "$rc" -ne 0 ] && [ -d "$STACK_DIR/logs" ]; then
    mkdir -p "$ARTIFACTS/e2e-logs"
    cp "$STACK_DIR"/logs/* "$ARTIFACTS/e2e-logs/" 2>/dev/null || true
    log "logs copied to $ARTIFACTS/e2e-logs/"
  fi
  if [ -n "${KEEP_E2E:-}" ]; then
    log "kept $TMP"
  else
    rm -rf "$TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start=$(date +%s)
log "e2e: starting the stack in $STACK_DIR (backend :$SERVER_PORT, nginx :$FRONTEND_PORT, autoscaler-view :$VIEW_PORT)"
"$ROOT/scripts/stack.sh" up >"$TMP/stack-up.log" 2>&1 || {
  cat "$TMP/stack-up.log" >&2
  die "scripts/stack.sh up failed"
}
pid_alive "$STACK_DIR/nginx/nginx.pid" || die "stack.sh up did not start nginx (scripts/frontend.sh start)"
grep -q "Open http://127.0.0.1:$FRONTEND_PORT" "$TMP/stack-up.log" ||
  die "stack.sh up did not print 'Open http://127.0.0.1:$FRONTEND_PORT'"
[ -x "$VIEW_BIN" ] || die "$VIEW_BIN missing: make -C backend"

mkdir -p "$ARTIFACTS"
export E2E_BASE_URL=http://127.0.0.1:$FRONTEND_PORT
export E2E_BACKEND_URL=http://127.0.0.1:$SERVER_PORT
export E2E_VIEW_URL=http://127.0.0.1:$VIEW_PORT
export E2E_STACK_DIR=$STACK_DIR E2E_ARTIFACTS=$ARTIFACTS E2E_POD_NAME=$POD_NAME CHROMIUM
export E2E_TMP=$TMP

# One file at a time, in this order: the last two stop servers (Redis, PostgreSQL, then the backend).
failed=0
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(unit nginx page load autoscaler a11y dependencies backend-down)
for t in "${files[@]}"; do
  log "e2e: $t"
  timeout 180 node --test --test-reporter=spec "$HERE/$t.test.mjs" || failed=1
done

log "e2e: finished in $(($(date +%s) - start)) s"
[ "$failed" = 0 ] || die "e2e tests failed"
log "e2e: all passed; screenshots in $ARTIFACTS/"
