-- Shared by the scripts in bench/wrk: counts non-2xx responses in each wrk thread and,
-- once the run is over, prints one line of JSON on stdout:
--   {"requests":N,"duration_s":S,"rps":R,"p50_us":U,"p99_us":U,"max_us":U,
--    "non_2xx":N,"socket_errors":N,"errors":{"connect":N,"read":N,"write":N,"timeout":N}}
-- Every wrk thread runs its own Lua state; setup() and done() run in another one, which
-- reads each thread's counter back with thread:get() (the pattern in wrk's SCRIPTING).

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

non_2xx = 0

function response(status, headers, body)
  if status < 200 or status > 299 then
    non_2xx = non_2xx + 1
  end
end

function done(summary, latency, requests)
  local non = 0
  for _, thread in ipairs(threads) do
    non = non + (thread:get("non_2xx") or 0)
  end
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    '{"requests":%d,"duration_s":%.3f,"rps":%.1f,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"non_2xx":%d,"socket_errors":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d}}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50), latency:percentile(99), latency.max,
    non, e.connect + e.read + e.write + e.timeout,
    e.connect, e.read, e.write, e.timeout))
end
