-- WRK_THREADS=2 POOL_FILE=access.txt wrk -t2 -s bench/wrk/bearer_pool.lua http://127.0.0.1:PORT/v1/me
-- GET of the URL's path with "Authorization: Bearer <token>", one access token from POOL_FILE
-- per request: POOL_MODE=once (default) presents every token once, so a server's cache of
-- verified tokens never hits; POOL_MODE=cycle goes round the pool.
local here = os.getenv("BENCH_DIR") and (os.getenv("BENCH_DIR") .. "/wrk/")
  or debug.getinfo(1, "S").source:match("^@(.*/)") or ""
dofile(here .. "pool.lua")

local pool

function init(args)
  pool = pool_open(pool_need_env("POOL_FILE"), os.getenv("POOL_MODE") or "once")
end

function request()
  local token = pool_next(pool) or "pool-exhausted"
  return wrk.format("GET", wrk.path, {["Authorization"] = "Bearer " .. token}, nil)
end
