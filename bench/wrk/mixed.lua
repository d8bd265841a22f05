-- WRK_THREADS=2 TOKEN_FILE=access.txt REFRESH_FILE=refresh.txt CODE_FILE=codes.txt \
--   CLIENT_ID=... CLIENT_SECRET=... REDIRECT_URI=... CODE_VERIFIER=... \
--   wrk -t2 -s bench/wrk/mixed.lua http://127.0.0.1:PORT
-- A mixed workload, in every wrk thread the same repeating pattern of 100 requests:
--   90 Web API calls   GET API_PATH (default /v1/me) with an access token from TOKEN_FILE,
--                      going round the pool (people with a live token; the cache warms up)
--    9 refreshes       grant_type=refresh_token, each token of REFRESH_FILE once
--    1 authorization   grant_type=authorization_code, each code of CODE_FILE once (PKCE
--                      verifier CODE_VERIFIER when set)
-- The token requests go to TOKEN_PATH (default /api/token) with HTTP Basic client
-- authentication. Each pool is sliced between the threads (pool.lua); the summary's
-- pool_exhausted counts refreshes and codes that found their pool empty. POOL_MODE=cycle goes
-- round the refresh tokens and codes instead (a ceiling run's placeholders).
local here = os.getenv("BENCH_DIR") and (os.getenv("BENCH_DIR") .. "/wrk/")
  or debug.getinfo(1, "S").source:match("^@(.*/)") or ""
dofile(here .. "pool.lua")

local token_path = os.getenv("TOKEN_PATH") or "/api/token"
local api_path = os.getenv("API_PATH") or "/v1/me"
local auth = pool_basic_auth()
local code_tail = "&redirect_uri=" .. form_urlencode(pool_need_env("REDIRECT_URI"))
local verifier = os.getenv("CODE_VERIFIER")
if verifier and verifier ~= "" then
  code_tail = code_tail .. "&code_verifier=" .. form_urlencode(verifier)
end
local tokens, refresh, codes
local n = 0

function init(args)
  tokens = pool_open(pool_need_env("TOKEN_FILE"), "cycle")
  local mode = os.getenv("POOL_MODE") or "once"
  -- Form-encoded once, when the pools are read (the same cost for every server).
  refresh = pool_open(pool_need_env("REFRESH_FILE"), mode, form_urlencode)
  codes = pool_open(pool_need_env("CODE_FILE"), mode, form_urlencode)
end

function request()
  local slot = n % 100
  n = n + 1
  if slot == 0 then
    local code = pool_next(codes) or "spc_pool-exhausted"
    return pool_form_post(token_path,
      "grant_type=authorization_code&code=" .. code .. code_tail, auth)
  elseif slot <= 9 then
    local token = pool_next(refresh) or "spr_pool-exhausted"
    return pool_form_post(token_path,
      "grant_type=refresh_token&refresh_token=" .. token, auth)
  end
  return wrk.format("GET", api_path, {["Authorization"] = "Bearer " .. pool_next(tokens)}, nil)
end
