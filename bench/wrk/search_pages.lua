-- wrk -s bench/wrk/search_pages.lua http://127.0.0.1:PORT
-- GET /v1/search for one word ($Q, default "midnight", type track) with a random limit (1-50)
-- and offset (0-1000) per request: about 50,000 distinct pages, so the server's memo of
-- 4,096 recent search pages rarely answers and each request ranks the word's matches (the
-- cost of a search not in memory). Sends "Authorization: Bearer $TOKEN".
-- Prints the JSON summary of summary.lua (found beside this file, or in $BENCH_DIR/wrk).

local here = os.getenv("BENCH_DIR") and (os.getenv("BENCH_DIR") .. "/wrk/")
  or debug.getinfo(1, "S").source:match("^@(.*/)") or ""
dofile(here .. "summary.lua")

local q = os.getenv("Q") or "midnight"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or "")

function init(args)
  math.randomseed(os.time() + (thread_index or 0))
end

function request()
  return wrk.format("GET", "/v1/search?type=track&q=" .. q .. "&limit=" .. math.random(1, 50)
    .. "&offset=" .. math.random(0, 1000))
end
