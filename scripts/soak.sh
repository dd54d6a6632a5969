#!/usr/bin/env bash
# soak.sh - `make soak`: at least SOAK_REQUESTS (default 1 000 000) requests of a mixed
# workload (cached and uncached reads, list pages, creates, updates, probes) against the release
# backend with real PostgreSQL and Redis, in rounds of SOAK_ROUND_SECONDS (20). Resident memory
# is read from /proc after a warm-up round and after every round; the run fails if it grows by
# more than SOAK_MAX_GROWTH_KB (8192) from the first measured round to the last, or if any
# response is not 2xx. About 2-3 minutes on 2 CPUs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

TARGET=${SOAK_REQUESTS:-1000000}
ROUND=${SOAK_ROUND_SECONDS:-20}
MAX_GROWTH_KB=${SOAK_MAX_GROWTH_KB:-8192}
CONNS=${SOAK_CONNECTIONS:-32}
require_readable_checkout
command -v wrk >/dev/null || die "wrk not found (apt-get install -y wrk)"
[ -x "$PGBIN/initdb" ] || die "PostgreSQL server binaries not found (apt-get install -y postgresql)"
make -s -C "$ROOT/backend" release >/dev/null || die "building the backend failed"

dir=$(stack_tmpdir soak)
trap 'stack_cleanup "$dir"' EXIT

stack_start "$dir"
port=$(free_port)
stack_env "$port" soak
url=http://127.0.0.1:$port
# Access log on (it is part of every request's cost), written to /dev/null.
env "${STACK_ENV[@]}" "$ROOT/backend/build/release/backend" >/dev/null 2>"$dir/backend.err" &
backend_pid=$!
stack_track "$dir" backend "$backend_pid"
wait_http "$url/health/ready" 30 || die "backend not ready"

for i in $(seq 1 200); do
  curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
    --data "{\"name\":\"Soak User $i\",\"email\":\"soak$i@example.com\"}" "$url/api/users"
done

# 78% reads of one of the 200 users, 12% list pages, 2% creates, 2% updates, 6% probes.
# Every write bumps the cache generation, so the write share sets the cache hit ratio.
cat >"$dir/mix.lua" <<'LUA'
local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1) -- a global in that thread's own Lua state
  table.insert(threads, thread)
end
function init(args)
  math.randomseed(os.time() * 1000 + tid * 7919)
end
local json = { ["Content-Type"] = "application/json" }
function request()
  counter = counter + 1
  local r = math.random(100)
  if r <= 78 then
    return wrk.format("GET", "/api/users/" .. math.random(200))
  elseif r <= 90 then
    return wrk.format("GET", "/api/users?limit=" .. (10 * math.random(5)))
  elseif r <= 92 then
    local e = string.format("soak-%d-%d-%d@example.com", tid, counter, math.random(1e9))
    return wrk.format("POST", "/api/users", json, '{"name":"Soak Writer","email":"' .. e .. '"}')
  elseif r <= 94 then
    local id = math.random(200)
    local e = string.format("soak-upd-%d-%d-%d@example.com", tid, counter, math.random(1e9))
    return wrk.format("PUT", "/api/users/" .. id, json, '{"name":"Soak Updated","email":"' .. e .. '"}')
  else
    return wrk.format("GET", "/health/live")
  end
end
LUA

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$backend_pid/status"; }
threads() { awk '/^Threads:/ { print $2 }' "/proc/$backend_pid/status"; }
fds() { find "/proc/$backend_pid/fd" -mindepth 1 -maxdepth 1 | wc -l; }

# round SECONDS: one wrk run; prints "requests non2xx errors rps p99 rss_kb threads" with
# resident memory and threads sampled halfway through, under load.
round() {
  local out
  wrk -t2 -c"$CONNS" -d"$1s" --latency -s "$dir/mix.lua" "$url" >"$dir/wrk.out" 2>&1 &
  local wrk_pid=$!
  sleep "$(($1 / 2))"
  local mid_rss mid_threads
  mid_rss=$(rss_kb) mid_threads=$(threads)
  wait "$wrk_pid" || true
  out=$(cat "$dir/wrk.out")
  local reqs non2xx errs rps p99
  reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' <<<"$out")
  non2xx=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' <<<"$out")
  errs=$(sed -n 's/^ *Socket errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1+\2+\3+\4/p' <<<"$out")
  rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' <<<"$out")
  p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
  echo "${reqs:-0} ${non2xx:-0} $((${errs:-0})) ${rps:-0} ${p99:-?} $mid_rss $mid_threads"
}

log "warm-up round (${ROUND}s) against $url, pid $backend_pid"
read -r warm_reqs warm_bad warm_err _ _ rss0 threads0 < <(round "$ROUND")
log "warm-up: $warm_reqs requests; under load RSS $rss0 kB, $threads0 threads"
total=0 bad=$((warm_bad + warm_err)) r=0 rss1=$rss0
printf '\n%6s %10s %10s %9s %8s %12s %8s %12s %5s\n' round requests total req/s p99 rss_load_kb threads rss_idle_kb fds
while [ "$total" -lt "$TARGET" ]; do
  r=$((r + 1))
  read -r reqs non2xx errs rps p99 rss1 thr < <(round "$ROUND")
  total=$((total + reqs)) bad=$((bad + non2xx + errs))
  printf '%6s %10s %10s %9s %8s %12s %8s %12s %5s\n' "$r" "$reqs" "$total" "$rps" "$p99" "$rss1" "$thr" "$(rss_kb)" "$(fds)"
  [ "$r" -lt 100 ] || die "did not reach $TARGET requests in 100 rounds"
done
growth=$((rss1 - rss0))
echo
log "soak: $total requests after warm-up; RSS under load: start $rss0 kB, end $rss1 kB, growth $growth kB; non-2xx or socket errors: $bad"
kill -0 "$backend_pid" 2>/dev/null || die "the backend died during the soak"
[ "$bad" = 0 ] || die "$bad requests failed"
[ "$growth" -le "$MAX_GROWTH_KB" ] || die "resident memory grew by $growth kB (limit $MAX_GROWTH_KB kB)"
log "soak: resident memory flat (within $MAX_GROWTH_KB kB)"
