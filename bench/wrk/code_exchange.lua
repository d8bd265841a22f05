-- WRK_THREADS=2 POOL_FILE=codes.txt CLIENT_ID=... CLIENT_SECRET=... REDIRECT_URI=... \
--   CODE_VERIFIER=... wrk -t2 -s bench/wrk/code_exchange.lua http://127.0.0.1:PORT
-- RFC 6749 §4.1.3 authorization code exchange: POST /api/token (TOKEN_PATH) with
-- grant_type=authorization_code, one code from POOL_FILE per request (each used once: a
-- second use revokes the grant), redirect_uri=REDIRECT_URI and, when CODE_VERIFIER is set
-- and not empty, the PKCE code_verifier (RFC 7636 §4.5). HTTP Basic client authentication.
local here = os.getenv("BENCH_DIR") and (os.getenv("BENCH_DIR") .. "/wrk/")
  or debug.getinfo(1, "S").source:match("^@(.*/)") or ""
dofile(here .. "pool.lua")

local path = os.getenv("TOKEN_PATH") or "/api/token"
local auth = pool_basic_auth()
local tail = "&redirect_uri=" .. form_urlencode(pool_need_env("REDIRECT_URI"))
local verifier = os.getenv("CODE_VERIFIER")
if verifier and verifier ~= "" then
  tail = tail .. "&code_verifier=" .. form_urlencode(verifier)
end
local pool

function init(args)
  -- Form-encoded once, when the pool is read (the same cost for every server).
  pool = pool_open(pool_need_env("POOL_FILE"), os.getenv("POOL_MODE") or "once", form_urlencode)
end

function request()
  local code = pool_next(pool) or "spc_pool-exhausted"
  return pool_form_post(path, "grant_type=authorization_code&code=" .. code .. tail,
    auth)
end
