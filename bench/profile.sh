#!/usr/bin/env bash
# profile.sh [SCENARIO] - instructions per request of the backend, counted by callgrind: exact and
# independent of whatever else the machine is doing, unlike CPU time.
#   SCENARIO  a user-hit | b list-hit | c user-miss | d create | e health | f page (default a)
# Starts a throwaway PostgreSQL + Redis, seeds PROFILE_USERS (20000) users, runs the backend under
# valgrind --tool=callgrind, prepares the cache as bench/bench.sh does, zeroes the counters,
# drives it with wrk for PROFILE_SECONDS (5) and prints instructions per request and the
# functions with the most inclusive instructions per request. The callgrind file is kept in
# bench/results/profile-<timestamp>/ for callgrind_annotate or kcachegrind.
# Env: PROFILE_SECONDS, PROFILE_CONNS (8), PROFILE_USERS, PROFILE_TOP (30), HTTP_THREADS (4),
#   BACKEND_BIN (backend/build/release/backend, built if stale), BENCH_BACKEND_ENV (VAR=value ...).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../scripts/lib.sh"
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

case ${1:-a} in
  -h | --help)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 0
    ;;
esac
SCEN=${1:-a}
require_readable_checkout
SECS=${PROFILE_SECONDS:-5}
CONNS=${PROFILE_CONNS:-8}
USERS=${PROFILE_USERS:-20000}
TOP=${PROFILE_TOP:-30}
THREADS=${HTTP_THREADS:-4}
BACKEND_BIN=${BACKEND_BIN:-$ROOT/backend/build/release/backend}
BACKEND_ENV=${BENCH_BACKEND_ENV:-}
LUA=$ROOT/bench/lua/bench.lua
for tool in valgrind callgrind_control callgrind_annotate wrk curl redis-cli; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install valgrind wrk curl redis-tools)"
done
case $SCEN in
  a) LOAD="BENCH_SCENARIO=user_rand BENCH_ID_MAX=2000" ;;
  b) LOAD="BENCH_SCENARIO=list" ;;
  c) LOAD="BENCH_SCENARIO=user_seq BENCH_ID_MAX=$USERS" ;;
  d) LOAD="BENCH_SCENARIO=post BENCH_TAG=p$$" ;;
  e) LOAD="BENCH_SCENARIO=health BENCH_COUNT=0" ;;
  f) LOAD="BENCH_SCENARIO=page BENCH_RANGE=$USERS" ;;
  *) die "unknown scenario '$SCEN' (a b c d e f)" ;;
esac
if [ "$BACKEND_BIN" = "$ROOT/backend/build/release/backend" ]; then
  make -s -C "$ROOT/backend" release >/dev/null || die "backend build failed"
fi

OUT=$ROOT/bench/results/profile-$(date +%Y%m%d-%H%M%S)
STACK=$(stack_tmpdir profile)
mkdir -p "$OUT"
trap 'stack_cleanup "$STACK"' EXIT
trap 'exit 130' INT TERM

stack_start "$STACK"
PG_PORT=$STACK_PG_PORT REDIS_PORT=$STACK_REDIS_PORT
PORT=$(free_port)
stack_env "$PORT" profile
redis() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@" >/dev/null; }

# Not pinned: valgrind runs the program on one core at a time anyway.
# shellcheck disable=SC2086
env "${STACK_ENV[@]}" HTTP_THREADS="$THREADS" $BACKEND_ENV \
  valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out.%p" "$BACKEND_BIN" \
  </dev/null >"$STACK/backend.log" 2>"$OUT/valgrind.log" &
VG=$!
stack_track "$STACK" backend "$VG"
wait_http "http://127.0.0.1:$PORT/health/ready" 60 || die "backend under valgrind not ready in 60 s (see $OUT/valgrind.log)"
"$PGBIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U app -d webapp -qAt -v ON_ERROR_STOP=1 -v n="$USERS" >/dev/null <<'SQL'
TRUNCATE users RESTART IDENTITY;
INSERT INTO users (name, email, created_at)
  SELECT 'User ' || g, 'user' || g || '@example.com', now() - (:n - g) * interval '1 second'
  FROM generate_series(1, :n) AS g;
VACUUM ANALYZE users;
SQL
redis flushdb
case $SCEN in
  a) curl -s --no-progress-meter -Z --parallel-max 8 -o /dev/null "http://127.0.0.1:$PORT/api/users/[1-2000]" ;;
  b) curl -s -o /dev/null "http://127.0.0.1:$PORT/api/users?limit=50" ;;
  *) curl -s -o /dev/null "http://127.0.0.1:$PORT/api/users/1" ;; # code paths loaded once
esac
case $SCEN in c | f) redis flushdb ;; esac

callgrind_control -z "$VG" >/dev/null 2>&1
# shellcheck disable=SC2086
env $LOAD BENCH_THREADS=1 timeout -k 5 $((SECS + 60)) wrk -t1 -c"$CONNS" -d"${SECS}s" --timeout 10s \
  -s "$LUA" "http://127.0.0.1:$PORT" >"$OUT/wrk.txt" 2>&1
callgrind_control -d "$VG" >/dev/null 2>&1
res=$(grep '^BENCH_RESULT' "$OUT/wrk.txt" || true)
req=$(kv requests "$res")
{ [ -n "$req" ] && [ "$req" -gt 0 ]; } || die "no requests were served (see $OUT/wrk.txt)"

stop_pidfile "$STACK/backend.pid" 30
file=$(find "$OUT" -name 'callgrind.out.*' -size +0 | sort | tail -n 1)
[ -n "$file" ] || die "callgrind wrote no profile (see $OUT/valgrind.log)"
total=$(callgrind_annotate --inclusive=yes "$file" 2>/dev/null | awk '/PROGRAM TOTALS/ && !t { gsub(",", "", $1); t = $1 } END { print t }')
{
  echo "scenario $SCEN, $req requests in ${SECS}s under callgrind, HTTP_THREADS=$THREADS, $(basename "$file")"
  awk -v t="$total" -v r="$req" 'BEGIN { printf "instructions per request: %d\n\n", t / r }'
  echo "inclusive instructions per request, top $TOP:"
  callgrind_annotate --inclusive=yes "$file" 2>/dev/null | awk -v r="$req" -v n="$TOP" -v root="$ROOT/" '
    /^ *[0-9,]+ +\( *[0-9.]+%\) / { x = $1; gsub(",", "", x); sub(/^ *[0-9,]+ +\( *[0-9.]+%\) +/, "")
                                  sub(/ \[.*/, ""); if (index($0, root) == 1) $0 = substr($0, length(root) + 1)
                                  if (!($0 in seen) && ++k <= n) printf "%10d  %s\n", x / r, $0; seen[$0] = 1 }'
} >"$OUT/summary.txt"
cat "$OUT/summary.txt"
log "profile in $file (callgrind_annotate --inclusive=yes $file)"
