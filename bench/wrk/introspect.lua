-- WRK_THREADS=2 POOL_FILE=tokens.txt CLIENT_ID=... CLIENT_SECRET=... \
--   wrk -t2 -s bench/wrk/introspect.lua http://127.0.0.1:PORT
-- RFC 7662 introspection: POST INTROSPECT_PATH (default /api/introspect: stagepass;
-- glewlwyd /api/glwd/introspect, oidc-provider /token/introspection) with token=<one
-- token from POOL_FILE>, going round the pool (POOL_MODE default "cycle"), HTTP Basic
-- client authentication. A 200 whose body does not say "active": true counts in "bad"
-- (not in a ceiling run, CEILING_RUN=1: hello answers "hello"; the body is searched all the
-- same, so both runs cost wrk alike).
local here = os.getenv("BENCH_DIR") and (os.getenv("BENCH_DIR") .. "/wrk/")
  or debug.getinfo(1, "S").source:match("^@(.*/)") or ""
dofile(here .. "pool.lua")

local path = os.getenv("INTROSPECT_PATH") or "/api/introspect"
local auth = pool_basic_auth()
local pool

function init(args)
  -- Form-encoded once, when the pool is read (the same cost for every server).
  pool = pool_open(pool_need_env("POOL_FILE"), os.getenv("POOL_MODE") or "cycle", form_urlencode)
end

function request()
  local token = pool_next(pool) or "pool-exhausted"
  return pool_form_post(path, "token=" .. token, auth)
end

local count_status = response
function response(status, headers, body)
  count_status(status, headers, body)
  local active = body and body:find('"active"%s*:%s*true')
  if status >= 200 and status <= 299 and not active and not ceiling_run then
    bad = bad + 1
  end
end
