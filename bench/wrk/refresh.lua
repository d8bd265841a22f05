-- WRK_THREADS=2 POOL_FILE=refresh.txt CLIENT_ID=... CLIENT_SECRET=... \
--   wrk -t2 -s bench/wrk/refresh.lua http://127.0.0.1:PORT
-- RFC 6749 §6 refresh grant with rotation: POST /api/token (TOKEN_PATH) with
-- grant_type=refresh_token and one refresh token from POOL_FILE per request, each used once
-- (pool.lua; a rotated token presented again would hit the reuse grace or revoke its grant).
-- Client authentication: HTTP Basic from CLIENT_ID / CLIENT_SECRET.
local here = os.getenv("BENCH_DIR") and (os.getenv("BENCH_DIR") .. "/wrk/")
  or debug.getinfo(1, "S").source:match("^@(.*/)") or ""
dofile(here .. "pool.lua")

local path = os.getenv("TOKEN_PATH") or "/api/token"
local auth = pool_basic_auth()
local pool

function init(args)
  -- Form-encoded once, when the pool is read (the same cost for every server).
  pool = pool_open(pool_need_env("POOL_FILE"), os.getenv("POOL_MODE") or "once", form_urlencode)
end

function request()
  local token = pool_next(pool) or "spr_pool-exhausted"
  return pool_form_post(path, "grant_type=refresh_token&refresh_token=" .. token, auth)
end
