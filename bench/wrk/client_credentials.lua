-- wrk -s bench/wrk/client_credentials.lua http://127.0.0.1:PORT
-- POSTs an RFC 6749 §4.4 client credentials grant to /api/token, authenticating the
-- client with HTTP Basic (§2.3.1) from the CLIENT_ID and CLIENT_SECRET environment
-- variables. Prints the JSON summary of summary.lua (found beside this file, or in
-- $BENCH_DIR/wrk).

local here = os.getenv("BENCH_DIR") and (os.getenv("BENCH_DIR") .. "/wrk/")
  or debug.getinfo(1, "S").source:match("^@(.*/)") or ""
dofile(here .. "summary.lua")
dofile(here .. "form.lua")

local client_id = os.getenv("CLIENT_ID")
local client_secret = os.getenv("CLIENT_SECRET")
if not client_id or client_id == "" or not client_secret then
  -- wrk reports a script error and then runs anyway (GET /); stop instead.
  io.stderr:write("client_credentials.lua: set CLIENT_ID and CLIENT_SECRET\n")
  os.exit(2)
end

wrk.method = "POST"
wrk.path = "/api/token"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = basic_auth(client_id, client_secret)
