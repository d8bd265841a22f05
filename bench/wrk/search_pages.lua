-- wrk -s bench/wrk/search_pages.lua http://127.0.0.1:PORT
-- GET /v1/search?type=track&q=WORD&limit=$LIMIT&offset=OFFSET, one page per request, walking
-- in turn every (word, offset) pair of the words of $WORDS (comma-separated; default the 16
-- below: adjectives the catalog generator draws uniformly, each matching 1,735-1,857 tracks at
-- catalog scale 1.0, "midnight" 1,813) and the offsets 0..$MAX_OFFSET (default 1000, the
-- API's largest). Row 11 of bench/run.py, "search-uncached": the cost of a search not in
-- memory. LIMIT (default 5, as row 9) stays fixed: a random limit would change the size of
-- the answers, not only the page.
--
-- The N = words x (MAX_OFFSET + 1) pages (16,016 by default) are cut into one slice per wrk
-- thread (WRK_THREADS, wrk's -t); each thread walks its slice round and round. Between two
-- requests of a page its thread asks every other page of its slice (8,007 with -t2), so the
-- server's memo of search pages, an LRU of 4,096 entries (src/music/sqlite/catalog_cache.hpp),
-- has always dropped it: the memo answers no request while N / WRK_THREADS > 4,096. With
-- WALK_STATE set, done() writes where each thread stopped to that file and the next wrk
-- process (the measured run after the warm-up) goes on from there instead of asking again
-- the pages the warm-up just left in the memo.
-- Sends "Authorization: Bearer $TOKEN". Prints the JSON summary of summary.lua (found beside
-- this file, or in $BENCH_DIR/wrk).

local here = os.getenv("BENCH_DIR") and (os.getenv("BENCH_DIR") .. "/wrk/")
  or debug.getinfo(1, "S").source:match("^@(.*/)") or ""
dofile(here .. "summary.lua")

local words = {}
for w in (os.getenv("WORDS") or "midnight,lucky,lost,crystal,endless,sleepy,savage,summer,"
    .. "magnetic,ancient,cosmic,quiet,lonely,distant,painted,solar"):gmatch("[^,]+") do
  words[#words + 1] = w
end
local limit = tonumber(os.getenv("LIMIT") or "5")
local pages = #words * (tonumber(os.getenv("MAX_OFFSET") or "1000") + 1)
local threads = tonumber(os.getenv("WRK_THREADS") or "1")
local state = os.getenv("WALK_STATE")
local first, last  -- this thread's slice of the pages, [first, last)
walk_step = 0  -- global: pages asked so far in the slice, read back by done()

wrk.headers["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or "")

local summary_setup, summary_done, started = setup, done, {}

function setup(thread)
  summary_setup(thread)
  started[#started + 1] = thread
end

function init(args)
  local index = thread_index or 0
  first = math.floor(index * pages / threads)
  last = math.floor((index + 1) * pages / threads)
  local f = state and io.open(state, "r")
  if f then  -- where this thread stopped in the previous wrk process
    local n = 0
    for line in f:lines() do
      if n == index then walk_step = tonumber(line) or 0 end
      n = n + 1
    end
    f:close()
  end
end

function request()
  -- Page k: word k mod #words, offset k div #words (consecutive requests change the word).
  local k = first + walk_step % (last - first)
  walk_step = walk_step + 1
  return wrk.format("GET", "/v1/search?type=track&q=" .. words[k % #words + 1] .. "&limit="
    .. limit .. "&offset=" .. math.floor(k / #words))
end

function done(summary, latency, requests)
  if state then
    local f = io.open(state, "w")
    for _, thread in ipairs(started) do f:write(tostring(thread:get("walk_step")), "\n") end
    f:close()
  end
  summary_done(summary, latency, requests)
end
