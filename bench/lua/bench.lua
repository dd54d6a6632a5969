-- bench.lua: the wrk script behind every bench/bench.sh scenario, configured by env vars.
--   BENCH_SCENARIO  user_rand | user_seq | list | page | post | health
--   BENCH_ID_MAX    user_rand and user_seq take ids from 1..BENCH_ID_MAX
--   BENCH_RANGE     page: `before` runs over a permutation of 51..BENCH_RANGE+50
--   BENCH_START     user_seq and page: first sequence number (disjoint warm-up and measured runs)
--   BENCH_THREADS   the wrk -t value (sequences are split between threads without overlap)
--   BENCH_TAG       unique per run: makes POST emails unique across runs and targets
--   BENCH_COUNT     1 (default): count non-2xx and X-Cache HIT/MISS per response;
--                   0: no Lua per response (fastest; non-2xx = wrk's status errors, >= 400)
-- done() prints one machine-readable line "BENCH_RESULT k=v ...".

local scenario = os.getenv("BENCH_SCENARIO") or "health"
local id_max   = tonumber(os.getenv("BENCH_ID_MAX") or "100000")
local range    = tonumber(os.getenv("BENCH_RANGE") or "1000000")
local start    = tonumber(os.getenv("BENCH_START") or "0")
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
local tag      = os.getenv("BENCH_TAG") or tostring(os.time())
local count    = os.getenv("BENCH_COUNT") ~= "0"

-- A prime larger than any range used here: j -> (j * STEP) mod range is a permutation of
-- 0..range-1 whenever range is not a multiple of STEP, and consecutive pages land far apart.
local STEP = 1000003

local threads = {}
function setup(thread)
  thread:set("tidx", #threads)
  table.insert(threads, thread)
end

non2xx, hits, misses = 0, 0, 0
local seq = 0

function init(args)
  math.randomseed(os.time() + (tidx or 0) * 7919 + #tag * 104729)
  seq = 0
end

-- the k-th sequence number of this thread: threads interleave, so no two requests share one
local function next_seq()
  local j = start + (tidx or 0) + seq * nthreads
  seq = seq + 1
  return j
end

if scenario == "user_rand" then
  function request()
    return wrk.format("GET", "/api/users/" .. math.random(1, id_max))
  end
elseif scenario == "user_seq" then
  function request()
    return wrk.format("GET", "/api/users/" .. (next_seq() % id_max + 1))
  end
elseif scenario == "list" then
  wrk.path = "/api/users?limit=50"
elseif scenario == "page" then
  function request()
    local before = 51 + (next_seq() * STEP) % range
    return wrk.format("GET", string.format("/api/users?limit=50&before=%d", before))
  end
elseif scenario == "post" then
  function request()
    local body = string.format('{"name":"Bench %s","email":"b%s-%d-%d@example.com"}',
                               tag, tag, tidx or 0, next_seq())
    return wrk.format("POST", "/api/users", { ["Content-Type"] = "application/json" }, body)
  end
elseif scenario == "health" then
  wrk.path = "/health/live"
else
  error("unknown BENCH_SCENARIO " .. scenario)
end

if count then
  function response(status, headers, body)
    if status < 200 or status > 299 then non2xx = non2xx + 1 end
    local xc = headers["X-Cache"] or headers["x-cache"]
    if xc == "HIT" then hits = hits + 1 elseif xc == "MISS" then misses = misses + 1 end
  end
end

function done(summary, latency, requests)
  local n2, h, m = 0, 0, 0
  for _, t in ipairs(threads) do
    n2 = n2 + (t:get("non2xx") or 0)
    h = h + (t:get("hits") or 0)
    m = m + (t:get("misses") or 0)
  end
  local e = summary.errors
  if not count then n2 = e.status end
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "non2xx=%d sockerr=%d hits=%d misses=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    n2, e.connect + e.read + e.write + e.timeout, h, m))
end
