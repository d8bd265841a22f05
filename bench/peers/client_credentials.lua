-- wrk -s bench/peers/client_credentials.lua http://127.0.0.1:PORT
-- bench/wrk/client_credentials.lua (same request, Basic client authentication from
-- CLIENT_ID / CLIENT_SECRET, same JSON summary) made to fit the peers, whose token
-- endpoints are not stagepass's:
--   TOKEN_PATH  path of the token endpoint (the peer's "token_path": /api/glwd/token for
--               glewlwyd, /token for oidc-provider); default /api/token as stagepass
--   SCOPE       when set and not empty, "&scope=SCOPE" is added to the form body
--               (glewlwyd answers 403 to a client credentials grant without a scope)
-- bench/wrk/client_credentials.lua is found through $BENCH_DIR/wrk/ when BENCH_DIR is
-- set, else beside this file in ../wrk/.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local wrk_dir = os.getenv("BENCH_DIR") and (os.getenv("BENCH_DIR") .. "/wrk/")
  or (here .. "../wrk/")
dofile(wrk_dir .. "client_credentials.lua")  -- also defines form_urlencode (form.lua)

local token_path = os.getenv("TOKEN_PATH")
if token_path and token_path ~= "" then
  wrk.path = token_path
end
local scope = os.getenv("SCOPE")
if scope and scope ~= "" then
  wrk.body = wrk.body .. "&scope=" .. form_urlencode(scope)
end
