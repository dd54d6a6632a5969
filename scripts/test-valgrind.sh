#!/usr/bin/env bash
# test-valgrind.sh - `make test-valgrind`: the release backend under valgrind memcheck with
# real PostgreSQL and Redis, driven through every endpoint, every error status, the cache
# (hit, miss, Redis down and back), PostgreSQL down and back, malformed HTTP and a graceful
# shutdown; then the integration suite's API tests (tests/integration/api.test.mjs) with every
# backend they start under valgrind too. Any memcheck error, or any definitely or indirectly
# lost block, fails. About 40 seconds.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

require_readable_checkout
command -v valgrind >/dev/null || die "valgrind not found (apt-get install -y valgrind)"
command -v curl >/dev/null || die "curl not found (apt-get install -y curl)"
[ -x "$PGBIN/initdb" ] || die "PostgreSQL server binaries not found (apt-get install -y postgresql)"
# BACKEND_BIN: another build to check (default: the release build, made here).
BIN=${BACKEND_BIN:-$ROOT/backend/build/release/backend}
[ -n "${BACKEND_BIN:-}" ] || make -s -C "$ROOT/backend" release >/dev/null || die "building the backend failed"

dir=$(stack_tmpdir valgrind)
out=$ROOT/artifacts/valgrind
cleanup() {
  stack_stop "$dir"
  mkdir -p "$out"
  cp "$dir"/vg.*.log "$dir"/backend.log "$out"/ 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

# A wrapper that runs the backend under memcheck; also used as BACKEND_BIN for the integration
# tests. One log per process.
cat >"$dir/backend-vg" <<WRAP
#!/bin/sh
exec valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \\
  --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --num-callers=30 \\
  --log-file="$dir/vg.%p.log" "$BIN" "\$@"
WRAP
chmod +x "$dir/backend-vg"

stack_start "$dir"
port=$(free_port)
stack_env "$port" valgrind
url=http://127.0.0.1:$port

log "backend under valgrind on $url"
env "${STACK_ENV[@]}" DB_STATEMENT_TIMEOUT_MS=3000 REDIS_TIMEOUT_MS=1000 STRESS_SLOTS=1 \
  "$dir/backend-vg" >"$dir/backend.log" 2>&1 &
backend_pid=$!
stack_track "$dir" backend "$backend_pid"
wait_http "$url/health/ready" 90 || die "backend not ready under valgrind within 90 s"

failed=0
n=0
# expect STATUS METHOD PATH [BODY]: one request, its status checked.
expect() {
  local want=$1 method=$2 path=$3 body=${4:-} got
  n=$((n + 1))
  if [ -n "$body" ]; then
    got=$(curl -s -o /dev/null -w '%{http_code}' -m 30 -X "$method" -H 'Content-Type: application/json' \
      --data-binary "$body" "$url$path" || true)
  elif [ "$method" = HEAD ]; then
    got=$(curl -s -o /dev/null -w '%{http_code}' -m 30 -I "$url$path" || true)
  else
    got=$(curl -s -o /dev/null -w '%{http_code}' -m 30 -X "$method" "$url$path" || true)
  fi
  if [ "$got" != "$want" ]; then
    log "FAIL $method ${path:0:80}: $got, expected $want"
    failed=1
  elif [ -n "${VERBOSE:-}" ]; then
    log "ok $method ${path:0:80}: $got"
  fi
}
# raw BYTES: send bytes on a new connection, read what comes back (bounded).
raw() {
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf '%b' "$1" >&3
  timeout 5 cat <&3 >/dev/null || true
  exec 3>&-
}
json() { printf '{"name":"%s","email":"%s"}' "$1" "$2"; }

log "every endpoint and error status"
expect 200 GET /health/live
expect 200 GET /health/ready
expect 200 GET /health
expect 200 GET /api/health
expect 200 GET /metrics
expect 200 HEAD /api/users
expect 204 OPTIONS /api/users
expect 404 GET /nope
expect 405 DELETE /api/users
expect 200 GET /api/users
expect 201 POST /api/users "$(json 'Ada Lovelace' ada@example.com)"
expect 201 POST /api/users "$(json 'Grace Hopper' grace@example.com)"
expect 409 POST /api/users "$(json 'Ada Again' ADA@example.com)"
expect 400 POST /api/users '{"name":"x"'
expect 400 POST /api/users '[1,2]'
expect 400 POST /api/users "$(json '' a@b.co)"
expect 400 POST /api/users "$(json 'A' not-an-email)"
expect 400 POST /api/users '{"name":"A","email":"a@b.co","extra":1}'
expect 413 POST /api/users "{\"name\":\"$(head -c 70000 /dev/zero | tr '\0' a)\",\"email\":\"a@b.co\"}"
id=$(curl -s "$url/api/users?limit=1" | sed -n 's/^\[{"id":\([0-9]*\).*/\1/p')
[ -n "$id" ] || die "no user id in the list"
expect 200 GET "/api/users/$id"
expect 200 GET "/api/users/$id"
expect 200 GET "/api/users?limit=1"
expect 200 GET "/api/users?limit=1&before=$id"
expect 400 GET "/api/users?limit=0"
expect 400 GET "/api/users/abc"
expect 404 GET /api/users/999999
expect 200 PUT "/api/users/$id" "$(json 'Grace B. Hopper' grace.hopper@example.com)"
expect 404 PUT /api/users/999999 "$(json 'Nobody' nobody@example.com)"
expect 200 GET "/api/users/$id"
expect 204 DELETE "/api/users/$id"
expect 404 DELETE "/api/users/$id"
expect 200 GET "/api/stress?ms=20"
expect 200 GET "/api/stress?iterations=1000"
expect 400 GET "/api/stress?ms=0"

log "malformed HTTP"
raw 'POST /api/users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"nam\r\nzz\r\n\r\n'
raw 'POST /api/users HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\nConnection: close\r\n\r\n{"a":1}'
raw "GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: $(head -c 40000 /dev/zero | tr '\0' a)\r\n\r\n"
raw "GET /api/users?$(for i in $(seq 1 600); do printf 'p%d=1&' "$i"; done) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
raw 'GET /api/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
raw 'GARBAGE\r\n\r\n'
raw 'GET /health/live HTTP/1.1\r\nHost: x\r\n'
expect 200 GET /health/live

log "Redis down, then back"
redis_stop "$dir/redis"
expect 200 GET /api/users
expect 201 POST /api/users "$(json 'No Cache' nocache@example.com)"
sleep 1.5
expect 200 GET /health
redis_start "$dir/redis" "$STACK_REDIS_PORT"
sleep 2
expect 200 GET /api/users
expect 200 GET /api/users

log "PostgreSQL down, then back"
pg_stop "$dir/pg" immediate
expect 200 GET /api/users
expect 503 GET /api/users/424242
expect 503 POST /api/users "$(json 'No Database' nodb@example.com)"
sleep 1.5
expect 503 GET /health/ready
pg_start "$dir/pg" "$STACK_PG_PORT"
wait_http "$url/health/ready" 60 || die "backend did not recover after PostgreSQL came back"
expect 201 POST /api/users "$(json 'Back Again' back@example.com)"
expect 200 GET /metrics

log "graceful shutdown (SIGTERM); memcheck reports at exit"
kill -TERM "$backend_pid"
rc=0
wait "$backend_pid" || rc=$?
rm -f "$dir/backend.pid"
log "backend exited with $rc after $n requests"
[ "$rc" = 0 ] || failed=1

if [ -f "$ROOT/tests/integration/api.test.mjs" ]; then
  log "integration API tests with every backend under valgrind"
  BACKEND_BIN=$dir/backend-vg node --test --test-reporter=dot "$ROOT/tests/integration/api.test.mjs" ||
    { log "FAIL integration API tests under valgrind"; failed=1; }
fi

# Summaries: one per process valgrind ran.
total_def=0 total_ind=0 total_err=0 procs=0
for f in "$dir"/vg.*.log; do
  procs=$((procs + 1))
  def=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$f" | tr -d , | tail -n 1)
  ind=$(sed -n 's/.*indirectly lost: \([0-9,]*\) bytes.*/\1/p' "$f" | tr -d , | tail -n 1)
  err=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$f" | tr -d , | tail -n 1)
  total_def=$((total_def + ${def:-0})) total_ind=$((total_ind + ${ind:-0})) total_err=$((total_err + ${err:-0}))
  if [ "${err:-0}" != 0 ]; then
    log "memcheck: $(basename "$f"): ${err} errors, definitely lost ${def:-0} B, indirectly lost ${ind:-0} B"
    grep -E -A12 '^==[0-9]+== (Invalid|Conditional|Syscall|Mismatched|[0-9,]+ bytes in [0-9,]+ blocks are (definitely|indirectly))' "$f" |
      head -n 40 >&2 || true
  fi
done
log "memcheck: $procs processes, $total_err errors, definitely lost $total_def B, indirectly lost $total_ind B"
[ "$total_err" = 0 ] || failed=1
[ "$failed" = 0 ] || die "test-valgrind failed (logs in $out)"
log "test-valgrind: clean"
