#!/usr/bin/env bash
# bench.sh [TARGET...] - `make bench`: throughput, latency, CPU per request and memory of the backend.
#
# Starts PostgreSQL and Redis the way `make up` does (by default throwaway ones in a temp dir on
# free ports), one backend per HTTP_THREADS value in BENCH_MODES, seeds BENCH_USERS users and
# drives every server with wrk (pinned to CPU 1; servers pinned to CPU 0) through:
#   a user-hit   GET /api/users/{random id in 1..BENCH_WARM_IDS}, cache filled beforehand (plus
#                the floor of one Redis GET per request, bench/ceiling/redis-get.c)
#   b list-hit   GET /api/users?limit=50, cache warm
#   c user-miss  GET /api/users/{id}, cache flushed, each id requested once: the PostgreSQL path
#   d create     POST /api/users with unique emails
#   e health     GET /health/live (plus the libmicrohttpd hello floor, bench/ceiling/hello.c)
#   f page@ROWS  GET /api/users?limit=50&before=X, every X distinct (uncached), at each table
#                size in BENCH_PAGE_ROWS; the same request stream for every size
#   g start      process start to GET /health/ready = 200, database up (BENCH_STARTS times)
# Runs go scenario -> repetition -> target, so machine drift hits every target alike.
# Per run: req/s, p50/p99, non-2xx, socket errors, X-Cache hit share, server CPU us/request
# (utime+stime of /proc/PID/stat before and after), PostgreSQL+Redis CPU us/request, peak RSS
# (VmHWM, reset before the run). The table is printed and written to bench/results/<timestamp>/.
#
# TARGETs add other implementations of the API to a-f (the first backend stays the baseline):
#   NAME=COMMAND   started with `bash -c COMMAND` after seeding, with SERVER_PORT (a free port)
#                  and this run's DB_HOST DB_PORT DB_USER DB_PASSWORD DB_NAME REDIS_HOST
#                  REDIS_PORT in its environment; stopped (by pid) at the end
#   NAME=URL PID   a server already running (PID: its pid or `auto`); it should use this run's
#                  database and Redis: set BENCH_STACK_DIR, BENCH_PG_PORT, BENCH_REDIS_PORT
# Knobs (environment, defaults in brackets):
#   BENCH_DURATION [5] measured seconds per run     BENCH_WARMUP [1] unmeasured seconds before b-f
#   BENCH_REPS [2]      repetitions                 BENCH_CONNS [32] wrk connections (1 thread)
#   BENCH_MODES ["4 0"] HTTP_THREADS of the backends (N = N event threads, 0 = thread per connection)
#   BENCH_SCENARIOS [a,b,c,d,e,f,g]                 BENCH_USERS [100000] seeded users for a-e
#   BENCH_WARM_IDS [10000]                          BENCH_PAGE_ROWS ["10000 1000000"] for f
#   BENCH_STARTS [5] starts measured in g           BENCH_CEILING [1] add the floors to a and e
#   BENCH_PIN [1] pin servers/wrk (needs 2 CPUs)    BENCH_BACKEND_ENV [""] extra VAR=value for the backends
#   BENCH_STACK_DIR [temp dir] PostgreSQL+Redis state; an existing stack there is reused, and
#     its users table is re-seeded. BENCH_PG_PORT / BENCH_REDIS_PORT [free ports; 5433/6380 with
#     BENCH_STACK_DIR, like make up].  BENCH_OUT [bench/results/<timestamp>]
#   BACKEND_BIN [backend/build/release/backend, built if missing or stale]
# A full default run takes about 4 minutes.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../scripts/lib.sh"
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

LUA=$ROOT/bench/lua/bench.lua
PAGE_RANGE=1000000 # `before` values of f run over 51..PAGE_RANGE+50 whatever the table size
FLOOR_KEY=bench:floor # the key bench/ceiling/redis-get.c reads
SRV_CPU=0 LOAD_CPU=1

# Targets, one index per server measured: name, URL, pid, the scenarios it runs (comma list).
declare -a T_NAME=() T_URL=() T_PID=() T_SCEN=()
# State, for cleanup: it may run before any of it exists.
STACK='' OWN_STACK=0 STARTED_PG=0 STARTED_REDIS=0 TMP=''

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}

# configure: the knobs from the environment, checked; the tools.
configure() {
  local v m r tool
  DURATION=${BENCH_DURATION:-5}
  WARMUP=${BENCH_WARMUP:-1}
  REPS=${BENCH_REPS:-2}
  CONNS=${BENCH_CONNS:-32}
  MODES=${BENCH_MODES:-4 0}
  SCENARIOS=${BENCH_SCENARIOS:-a,b,c,d,e,f,g}
  USERS=${BENCH_USERS:-100000}
  WARM_IDS=${BENCH_WARM_IDS:-10000}
  PAGE_ROWS=${BENCH_PAGE_ROWS:-10000 1000000}
  STARTS=${BENCH_STARTS:-5}
  CEILING=${BENCH_CEILING:-1}
  PIN=${BENCH_PIN:-1}
  BACKEND_ENV=${BENCH_BACKEND_ENV:-}
  BACKEND_BIN=${BACKEND_BIN:-$ROOT/backend/build/release/backend}
  OUT=${BENCH_OUT:-$ROOT/bench/results/$(date +%Y%m%d-%H%M%S)}

  for v in DURATION WARMUP REPS CONNS USERS WARM_IDS STARTS; do
    [[ ${!v} =~ ^[0-9]+$ ]] || die "BENCH_$v must be a non-negative integer (got '${!v}')"
  done
  { [ "$DURATION" -ge 1 ] && [ "$REPS" -ge 1 ] && [ "$CONNS" -ge 1 ]; } || die "BENCH_DURATION, BENCH_REPS and BENCH_CONNS must be >= 1"
  [ "$WARM_IDS" -le "$USERS" ] || WARM_IDS=$USERS
  for m in $MODES; do [[ $m =~ ^[0-9]+$ ]] || die "BENCH_MODES: '$m' is not an HTTP_THREADS value"; done
  for r in $PAGE_ROWS; do { [[ $r =~ ^[0-9]+$ ]] && [ "$r" -ge 50 ]; } || die "BENCH_PAGE_ROWS: '$r' is not a row count >= 50"; done
  for tool in wrk curl redis-cli taskset ss cc; do
    command -v "$tool" >/dev/null || die "$tool not found (apt-get install wrk curl redis-tools util-linux iproute2 gcc)"
  done
  [ -x "$PGBIN/psql" ] || die "PostgreSQL binaries not found (apt-get install postgresql)"
  if [ "$PIN" = 1 ] && [ "$(nproc)" -lt 2 ]; then
    log "only one CPU: not pinning"
    PIN=0
  fi
  LOAD_PIN=()
  if [ "$PIN" = 1 ]; then LOAD_PIN=(taskset -c "$LOAD_CPU"); fi
}

has_scen() { [[ ,$SCENARIOS, == *,$1,* ]]; }
mode_name() { if [ "$1" = 0 ]; then echo c-thread; else echo "c-pool$1"; fi; }

# Servers log to $TMP/logs (an access line per request: hundreds of MB per run); after every
# run the other lines (errors, warnings, lifecycle) are kept in $OUT/logs and the file emptied.
keep_events() { # NAME
  local raw=$TMP/logs/$1.log
  [ -f "$raw" ] || return 0
  grep -v '"event":"http.request"' "$raw" >>"$OUT/logs/$1.log" || true
  : >"$raw"
}

# cleanup: every process this script started (pid files in $TMP), then PostgreSQL and Redis
# when this run started them.
cleanup() {
  local f
  [ -n "$TMP" ] || return 0
  stack_stop_tracked "$TMP"
  for f in "$TMP"/logs/*.log; do
    if [ -f "$f" ]; then keep_events "$(basename "$f" .log)"; fi
  done
  if [ "$OWN_STACK" = 1 ]; then
    stack_cleanup "$STACK"
  else
    if [ "$STARTED_REDIS" = 1 ]; then redis_stop "$STACK/redis"; fi
    if [ "$STARTED_PG" = 1 ]; then pg_stop "$STACK/pg"; fi
  fi
  rm -rf "$TMP"
}

# stack_up: PostgreSQL and Redis, throwaway ones or those of BENCH_STACK_DIR.
stack_up() {
  local pg=${BENCH_PG_PORT:-} redis=${BENCH_REDIS_PORT:-}
  STACK=${BENCH_STACK_DIR:-}
  if [ -z "$STACK" ]; then
    STACK=$(stack_tmpdir bench)
    OWN_STACK=1
  else
    pg=${pg:-5433} redis=${redis:-6380}
  fi
  pid_alive "$STACK/pg/data/postmaster.pid" || STARTED_PG=1
  pid_alive "$STACK/redis/redis.pid" || STARTED_REDIS=1
  stack_start "$STACK" "$pg" "$redis"
  PG_PORT=$STACK_PG_PORT REDIS_PORT=$STACK_REDIS_PORT PG_PID=$STACK_PG_PID REDIS_PID=$STACK_REDIS_PID
  log "PostgreSQL 127.0.0.1:$PG_PORT (pid $PG_PID), Redis 127.0.0.1:$REDIS_PORT (pid $REDIS_PID), state in $STACK"
}

psql_app() { "$PGBIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U app -d webapp -qAt -v ON_ERROR_STOP=1 "$@"; }
redis() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
flush() { [ "$(redis flushdb)" = OK ] || die "Redis FLUSHDB failed"; }

# start_backend NAME THREADS PORT LOG: the backend in the background; sets STARTED_PID.
start_backend() {
  local name=$1 threads=$2 port=$3 logf=$4 pin=()
  if [ "$PIN" = 1 ]; then pin=(taskset -c "$SRV_CPU"); fi
  stack_env "$port" "bench-$name"
  # shellcheck disable=SC2086 # BACKEND_ENV is a list of VAR=value words
  env "${STACK_ENV[@]}" HTTP_THREADS="$threads" $BACKEND_ENV \
    "${pin[@]}" "$BACKEND_BIN" </dev/null >>"$logf" 2>&1 &
  STARTED_PID=$!
}

# add_target NAME URL PID [SCENARIOS]: measure this server; by default in a-f when it serves
# the users API (GET /api/users?limit=1 is a JSON array), else in e only.
add_target() {
  local scen=${4:-} probe
  if [ -z "$scen" ]; then
    probe=$(curl -s -m 5 -w '\n%{http_code}' "$2/api/users?limit=1" || true)
    scen=e
    [[ $(tail -n 1 <<<"$probe") == 2* && $(head -c 1 <<<"$probe") == '[' ]] && scen=a,b,c,d,e,f
  fi
  T_NAME+=("$1") T_URL+=("$2") T_PID+=("$3") T_SCEN+=("$scen")
  log "target $1: $2 pid $3 (scenarios $scen)"
}

# start_backends: one backend per BENCH_MODES value.
start_backends() {
  local m name port
  for m in $MODES; do
    name=$(mode_name "$m")
    port=$(free_port)
    start_backend "$name" "$m" "$port" "$TMP/logs/$name.log"
    stack_track "$TMP" "$name" "$STARTED_PID"
    wait_http "http://127.0.0.1:$port/health/ready" 30 || {
      keep_events "$name"
      die "backend $name not ready in 30 s (see $OUT/logs/$name.log)"
    }
    add_target "$name" "http://127.0.0.1:$port" "$STARTED_PID"
  done
  [ ${#T_NAME[@]} -gt 0 ] || die "BENCH_MODES is empty"
}

# seed ROWS: users 1..ROWS exactly (created_at one second apart), empty cache.
seed() {
  local t0=$EPOCHREALTIME
  psql_app -v n="$1" >/dev/null <<'SQL'
BEGIN;
TRUNCATE users RESTART IDENTITY;
INSERT INTO users (name, email, created_at)
  SELECT 'User ' || g, 'user' || g || '@example.com', now() - (:n - g) * interval '1 second'
  FROM generate_series(1, :n) AS g;
COMMIT;
VACUUM ANALYZE users;
SQL
  flush
  log "seeded $1 users in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
}

# add_extra_targets TARGET...: NAME=COMMAND (started here) or NAME=URL PID (already running).
add_extra_targets() {
  local arg name val url pid port
  while [ $# -gt 0 ]; do
    arg=$1 name=${1%%=*} val=${1#*=}
    { [ "$name" != "$arg" ] && [ -n "$name" ]; } || die "target '$arg': expected NAME=COMMAND or NAME=URL PID"
    if [[ $val =~ ^https?:// ]]; then
      [ $# -ge 2 ] || die "target $name: URL without a PID"
      url=${val%/} pid=$2
      if [ "$pid" = auto ]; then
        port=${url##*:} port=${port%%/*}
        pid=$(listener_pid "$port")
      fi
      { [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; } || die "target $name: no live process '$2'"
      shift 2
    else
      port=$(free_port)
      stack_env
      env "${STACK_ENV[@]}" SERVER_PORT="$port" bash -c "$val" </dev/null >>"$TMP/logs/$name.log" 2>&1 &
      pid=$!
      stack_track "$TMP" "$name" "$pid"
      url=http://127.0.0.1:$port
      wait_http "$url/health/live" 30 || {
        keep_events "$name"
        die "target $name did not answer on $url within 30 s (see $OUT/logs/$name.log)"
      }
      shift
    fi
    add_target "$name" "$url" "$pid"
  done
}

# start_floor NAME SCENARIO SOURCE ARGS...: build bench/ceiling/SOURCE.c and measure it in
# SCENARIO; it is started as `floor PORT ARGS...`.
start_floor() {
  local name=$1 scen=$2 src=$3 port
  shift 3
  cc -O2 -o "$TMP/$src" "$ROOT/bench/ceiling/$src.c" -lmicrohttpd -lhiredis -lpthread ||
    die "cannot build bench/ceiling/$src.c"
  port=$(free_port)
  "$TMP/$src" "$port" "$@" </dev/null >"$TMP/logs/$name.log" 2>&1 &
  stack_track "$TMP" "$name" $!
  wait_http "http://127.0.0.1:$port/health/live" 10 || die "$src did not start (see $TMP/logs/$name.log)"
  add_target "$name" "http://127.0.0.1:$port" "$(cat "$TMP/$name.pid")" "$scen"
}

# start_floors: what libmicrohttpd costs doing nothing (hello: scenario e) and doing one Redis
# GET (redis-get: scenario a; as many event threads as the first pooled backend).
start_floors() {
  local m threads=4
  [ "$CEILING" = 1 ] || return 0
  if has_scen e; then start_floor mhd-hello e hello 2; fi
  if has_scen a; then
    for m in $MODES; do
      if [ "$m" -gt 0 ]; then
        threads=$m
        break
      fi
    done
    FLOOR_VALUE=$(curl -s -m 5 "${T_URL[0]}/api/users/1")
    redis set "$FLOOR_KEY" "$FLOOR_VALUE" >/dev/null
    start_floor mhd-redis a redis-get "$threads" "$REDIS_PORT" "$FLOOR_KEY"
  fi
}

# wrk_run SECS URL OUT VAR=value...: one bounded wrk run on the load CPU.
wrk_run() {
  local secs=$1 url=$2 out=$3
  shift 3
  env BENCH_THREADS=1 "$@" timeout -k 5 $((secs + 30)) "${LOAD_PIN[@]}" \
    wrk -t1 -c"$CONNS" -d"${secs}s" --latency --timeout 5s -s "$LUA" "$url" >"$out" 2>&1
}

# prepare SCENARIO TARGET-INDEX TAG: unmeasured work that puts the cache in the scenario's state.
prepare() {
  local s=$1 url=${T_URL[$2]} tag=$3 codes
  case $s in
    a)
      flush
      if [ "${T_NAME[$2]}" = mhd-redis ]; then
        redis set "$FLOOR_KEY" "$FLOOR_VALUE" >/dev/null
        return 0
      fi
      codes=$(timeout 300 "${LOAD_PIN[@]}" curl -s --no-progress-meter -Z --parallel-max 16 -o /dev/null -w '%{http_code}\n' "$url/api/users/[1-$WARM_IDS]" |
        sort | uniq -c | awk '{ printf "%s%s x %s", (NR > 1 ? ", " : ""), $1, $2 }')
      [ "$codes" = "$WARM_IDS x 200" ] || log "warning: cache warm-up answered $codes"
      ;;
    b)
      flush
      wrk_run "$WARMUP" "$url" /dev/null BENCH_SCENARIO=list BENCH_COUNT=0
      ;;
    c)
      wrk_run "$WARMUP" "$url" /dev/null BENCH_SCENARIO=user_rand BENCH_ID_MAX="$USERS" BENCH_COUNT=0
      sleep 0.5 # requests wrk left in flight would refill the cache after the flush
      flush
      ;;
    d) wrk_run "$WARMUP" "$url" /dev/null BENCH_SCENARIO=post BENCH_TAG="w$tag" BENCH_COUNT=0 ;;
    e) wrk_run "$WARMUP" "$url" /dev/null BENCH_SCENARIO=health BENCH_COUNT=0 ;;
    f*)
      wrk_run "$WARMUP" "$url" /dev/null BENCH_SCENARIO=page BENCH_RANGE="$PAGE_RANGE" BENCH_START=$((PAGE_RANGE / 2)) BENCH_COUNT=0
      sleep 0.5
      flush
      ;;
  esac
}

# load_env SCENARIO TAG: the bench.lua settings of a measured run.
load_env() {
  case $1 in
    a) echo BENCH_SCENARIO=user_rand BENCH_ID_MAX="$WARM_IDS" ;;
    b) echo BENCH_SCENARIO=list ;;
    c) echo BENCH_SCENARIO=user_seq BENCH_ID_MAX="$USERS" ;;
    d) echo BENCH_SCENARIO=post BENCH_TAG="$2" ;;
    e) echo BENCH_SCENARIO=health BENCH_COUNT=0 ;;
    f*) echo BENCH_SCENARIO=page BENCH_RANGE="$PAGE_RANGE" BENCH_START=0 ;;
  esac
}

scen_label() {
  case $1 in
    a) echo user-hit ;; b) echo list-hit ;; c) echo user-miss ;; d) echo create ;; e) echo health ;;
    f*) echo "page@${1#f}" ;;
  esac
}

run_one() { # SCENARIO REP TARGET-INDEX
  local s=$1 rep=$2 i=$3 name=${T_NAME[$3]} url=${T_URL[$3]} pid=${T_PID[$3]}
  local tag raw res t0 t1 b0 b1 hwm
  kill -0 "$pid" 2>/dev/null || die "target $name (pid $pid) is gone"
  if [ "$PIN" = 1 ]; then pin_tree "$pid" "$SRV_CPU"; fi
  tag=${EPOCHREALTIME/[.,]/}$i$rep
  prepare "$s" "$i" "$tag"
  raw=$OUT/raw/$s-$(scen_label "$s")-rep$rep-$name.txt
  tree_reset_hwm "$pid"
  b0=$(tree_ticks "$PG_PID" "$REDIS_PID")
  t0=$(tree_ticks "$pid")
  # shellcheck disable=SC2046
  wrk_run "$DURATION" "$url" "$raw" $(load_env "$s" "$tag")
  sleep 0.2 # the last responses are counted when the server has finished them
  t1=$(tree_ticks "$pid")
  b1=$(tree_ticks "$PG_PID" "$REDIS_PID")
  hwm=$(tree_hwm_kib "$pid")
  keep_events "$name"
  res=$(grep '^BENCH_RESULT' "$raw" | tail -n 1 || true)
  [ -n "$res" ] || die "run $s/$rep/$name produced no result: $(tail -n 3 "$raw")"
  awk -v s="$s" -v rep="$rep" -v name="$name" -v req="$(kv requests "$res")" -v dur="$(kv duration_us "$res")" \
    -v p50="$(kv p50_us "$res")" -v p90="$(kv p90_us "$res")" -v p99="$(kv p99_us "$res")" \
    -v n2="$(kv non2xx "$res")" -v se="$(kv sockerr "$res")" -v hits="$(kv hits "$res")" \
    -v miss="$(kv misses "$res")" -v dt=$((t1 - t0)) -v db=$((b1 - b0)) -v hz="$CLK_TCK" -v hwm="$hwm" 'BEGIN {
      r = req > 0 ? req : 1
      printf "%s\t%d\t%s\t%d\t%.2f\t%.1f\t%.3f\t%.3f\t%.3f\t%d\t%d\t%d\t%d\t%.1f\t%.1f\t%.1f\n",
        s, rep, name, req, dur / 1e6, req / (dur / 1e6), p50 / 1000, p90 / 1000, p99 / 1000,
        n2, se, hits, miss, dt * 1e6 / hz / r, db * 1e6 / hz / r, hwm / 1024 }' >>"$TSV"
  tail -n 1 "$TSV" | awk -F'\t' '{ printf "  %-9s rep %s %-10s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  non2xx %d  cpu %6.1f us/req  stack %6.1f us/req  rss %5.1f MiB\n",
      $1, $2, $3, $6, $7, $9, $10, $14, $15, $16 }' >&2
}

# run_scenario SCENARIO: every repetition on every target that serves it. Each repetition
# starts one target further on, so that no target always runs first after the preparation.
run_scenario() {
  local s=$1 rep k i n=${#T_NAME[@]}
  for rep in $(seq 1 "$REPS"); do
    for k in $(seq 0 $((n - 1))); do
      i=$(((k + rep - 1) % n))
      if [[ ,${T_SCEN[$i]}, == *,${s:0:1},* ]]; then run_one "$s" "$rep" "$i"; fi
    done
  done
}

write_meta() {
  local i
  {
    echo "date: $(date -Is)  host: $(uname -n)  cpus: $(nproc)  kernel: $(uname -r)"
    echo "command: BENCH_DURATION=$DURATION BENCH_WARMUP=$WARMUP BENCH_REPS=$REPS BENCH_CONNS=$CONNS BENCH_MODES=\"$MODES\" BENCH_SCENARIOS=$SCENARIOS BENCH_USERS=$USERS BENCH_PAGE_ROWS=\"$PAGE_ROWS\" BENCH_BACKEND_ENV=\"$BACKEND_ENV\" bench/bench.sh"
    echo "backend: $("$BACKEND_BIN" --version)  tree: $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)  pin: $PIN (servers CPU $SRV_CPU, wrk CPU $LOAD_CPU)"
    for i in "${!T_NAME[@]}"; do echo "target ${T_NAME[$i]} ${T_URL[$i]} pid ${T_PID[$i]}: $(tr '\0' ' ' <"/proc/${T_PID[$i]}/cmdline")"; done
  } >"$OUT/meta.txt"
}

# ready_probe PORT: true when GET /health/ready answers 200. Bash's /dev/tcp, so that polling
# costs no process start and the figure is accurate to about a millisecond.
ready_probe() {
  local line=''
  {
    exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
    printf 'GET /health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
    read -r -t 2 line <&3 || true
    exec 3<&- 3>&-
  } 2>/dev/null
  [[ $line == HTTP/1.?\ 200* ]]
}

# measure_starts: scenario g, process start to ready, BENCH_STARTS times per mode.
measure_starts() {
  local m name k port t0 t1 pid ok ready=$OUT/ready.tsv
  printf 'target\tstart\tms\n' >"$ready"
  mkfifo "$TMP/tick"
  exec 4<>"$TMP/tick" # `read -t 0.001 -u 4` is a 1 ms sleep without a process
  for m in $MODES; do
    name=$(mode_name "$m")
    for k in $(seq 1 "$STARTS"); do
      port=$(free_port)
      t0=${EPOCHREALTIME/[.,]/}
      start_backend "$name" "$m" "$port" "$TMP/logs/$name-start.log"
      pid=$STARTED_PID
      stack_track "$TMP" "$name-start" "$pid"
      ok=0
      while [ $((${EPOCHREALTIME/[.,]/} - t0)) -lt 10000000 ]; do
        if ready_probe "$port"; then
          ok=1
          break
        fi
        kill -0 "$pid" 2>/dev/null || break
        read -r -t 0.001 -u 4 _ || true
      done
      t1=${EPOCHREALTIME/[.,]/}
      stop_pidfile "$TMP/$name-start.pid" 10
      keep_events "$name-start"
      [ "$ok" = 1 ] || die "backend $name did not get ready within 10 s (see $OUT/logs/$name-start.log)"
      printf '%s\t%d\t%.1f\n' "$name" "$k" "$(awk -v d=$((t1 - t0)) 'BEGIN { print d / 1000 }')" >>"$ready"
    done
    log "g start-to-ready $name: $(awk -F'\t' -v n="$name" '$1 == n { printf "%s ms ", $3 }' "$ready")"
  done
}

main() {
  local s rows
  case ${1:-} in -h | --help)
    usage
    exit 0
    ;;
  esac
  require_readable_checkout
  configure
  TMP=$(mktemp -d /tmp/webapp-bench-run.XXXXXX)
  mkdir -p "$OUT/raw" "$OUT/logs" "$TMP/logs"
  trap cleanup EXIT
  trap 'exit 130' INT TERM

  if [ "$BACKEND_BIN" = "$ROOT/backend/build/release/backend" ]; then
    make -s -C "$ROOT/backend" release >/dev/null || die "backend build failed"
  fi
  [ -x "$BACKEND_BIN" ] || die "no backend binary at $BACKEND_BIN"
  stack_up
  start_backends
  seed "$USERS"
  add_extra_targets "$@"
  start_floors

  CLK_TCK=$(getconf CLK_TCK)
  TSV=$OUT/runs.tsv
  printf 'scenario\trep\ttarget\trequests\tseconds\trps\tp50_ms\tp90_ms\tp99_ms\tnon2xx\tsockerr\thits\tmisses\tcpu_us_req\tstack_us_req\trss_mib\n' >"$TSV"
  write_meta
  log "results in $OUT; ${DURATION}s runs, $REPS reps, $CONNS connections"
  for s in a b c d e; do
    if has_scen "$s"; then run_scenario "$s"; fi
  done
  if has_scen f; then
    for rows in $PAGE_ROWS; do
      seed "$rows"
      run_scenario "f$rows"
    done
  fi
  if has_scen g && [ "$STARTS" -gt 0 ]; then measure_starts; fi

  "$ROOT/bench/summarize.sh" "$OUT" | tee "$OUT/summary.txt"
  log "results in $OUT"
}

main "$@"
