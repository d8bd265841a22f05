-- Shared by the scripts in bench/wrk: counts unexpected responses in each wrk thread and,
-- once the run is over, prints one line of JSON on stdout:
--   {"requests":N,"duration_s":S,"rps":R,"p50_us":U,"p99_us":U,"max_us":U,
--    "non_2xx":N,"socket_errors":N,"errors":{"connect":N,"read":N,"write":N,"timeout":N},
--    "bad":N,"pool_used":N,"pool_exhausted":N}
-- non_2xx: responses whose status is outside 200-299, or, when the script sets the global
-- expected_status (or EXPECT_STATUS is set), responses with any other status.
-- bad, pool_used, pool_exhausted: counters the scripts keep (pool.lua, introspect.lua ...):
-- 2xx answers that still say "no" (an inactive introspection), values taken from a pool,
-- requests sent with a placeholder because the pool ran out. Always 0 for the others.
-- CEILING_RUN=1: the run is a scenario's ceiling (stagepass-bench-hello answering 200 "hello"
-- to the scenario's very requests): 200 is the expected status whatever the script expects,
-- and the scripts' own checks of the body (introspect.lua's "active") still run, to cost the
-- same, but count nothing (global ceiling_run).
-- Every wrk thread runs its own Lua state; setup() and done() run in another one, which
-- reads each thread's counters back with thread:get() (the pattern in wrk's SCRIPTING).
-- setup() also numbers the threads (global thread_index, 0-based, in each thread's state)
-- so pool.lua can give every thread its own slice of a pool.

local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  threads[#threads + 1] = thread
end

non_2xx = 0
bad = 0
pool_used = 0
pool_exhausted = 0

local env_expected = tonumber(os.getenv("EXPECT_STATUS") or "")
ceiling_run = os.getenv("CEILING_RUN") == "1"

function response(status, headers, body)
  local expected = ceiling_run and 200 or expected_status or env_expected
  if expected then
    if status ~= expected then non_2xx = non_2xx + 1 end
  elseif status < 200 or status > 299 then
    non_2xx = non_2xx + 1
  end
end

function done(summary, latency, requests)
  local sums = {non_2xx = 0, bad = 0, pool_used = 0, pool_exhausted = 0}
  for _, thread in ipairs(threads) do
    for name in pairs(sums) do
      sums[name] = sums[name] + (tonumber(thread:get(name)) or 0)
    end
  end
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    '{"requests":%d,"duration_s":%.3f,"rps":%.1f,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"non_2xx":%d,"socket_errors":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},' ..
    '"bad":%d,"pool_used":%d,"pool_exhausted":%d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50), latency:percentile(99), latency.max,
    sums.non_2xx, e.connect + e.read + e.write + e.timeout,
    e.connect, e.read, e.write, e.timeout,
    sums.bad, sums.pool_used, sums.pool_exhausted))
end
