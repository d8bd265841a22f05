-- CHAIN_FILE=chains.txt CLIENT_ID=... CLIENT_SECRET=... WRK_THREADS=2 \
--   wrk -t2 -c64 -s bench/wrk/refresh_chain.lua http://127.0.0.1:PORT
-- A refresh storm on chains (bench/prune_storm.py): RFC 6749 §6 refresh grant with rotation,
-- POST /api/token (TOKEN_PATH), each request presenting the refresh_token the previous
-- answer of the same chain returned, so the store sees rotation after rotation of the same
-- grants (what grows it without pruning) and no pool runs out. Each wrk thread takes its
-- slice of CHAIN_FILE (one seeded refresh token per line, one per chain: give at least as
-- many as connections) and keeps its idle chains in a queue: a connection takes one to send,
-- its answer puts the successor back. An answer without a refresh_token (an error) loses its
-- chain; a thread out of chains sends a placeholder the server refuses (counted non-2xx and
-- in pool_exhausted). Prints summary.lua's JSON line at the end.
-- Client authentication: HTTP Basic from CLIENT_ID / CLIENT_SECRET.
local here = os.getenv("BENCH_DIR") and (os.getenv("BENCH_DIR") .. "/wrk/")
  or debug.getinfo(1, "S").source:match("^@(.*/)") or ""
dofile(here .. "pool.lua")

local count_response = response  -- summary.lua's: counts non-2xx answers
local path = os.getenv("TOKEN_PATH") or "/api/token"
local auth = pool_basic_auth()
local idle = {}  -- chains waiting for a connection (their current refresh token)
local head, tail = 1, 0

function init(args)
  local p = pool_open(pool_need_env("CHAIN_FILE"), "once")
  for _, v in ipairs(p.values) do
    tail = tail + 1
    idle[tail] = v
  end
end

function request()
  local token = "spr_no-idle-chain"
  if head <= tail then
    token = idle[head]
    idle[head] = nil
    head = head + 1
    pool_used = pool_used + 1
  else
    pool_exhausted = pool_exhausted + 1
  end
  return pool_form_post(path, "grant_type=refresh_token&refresh_token=" .. form_urlencode(token),
    auth)
end

function response(status, headers, body)
  count_response(status, headers, body)
  local next_token = status == 200 and body:match('"refresh_token"%s*:%s*"([^"]+)"')
  if next_token then
    tail = tail + 1
    idle[tail] = next_token
  end
end
