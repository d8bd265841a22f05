-- wrk -s bench/wrk/client_credentials.lua http://127.0.0.1:PORT
-- POSTs an RFC 6749 §4.4 client credentials grant to /api/token, authenticating the
-- client with HTTP Basic (§2.3.1) from the CLIENT_ID and CLIENT_SECRET environment
-- variables. Prints the JSON summary of summary.lua (found beside this file, or in
-- $BENCH_DIR/wrk).

local here = os.getenv("BENCH_DIR") and (os.getenv("BENCH_DIR") .. "/wrk/")
  or debug.getinfo(1, "S").source:match("^@(.*/)") or ""
dofile(here .. "summary.lua")

-- RFC 6749 §2.3.1: "The client identifier is encoded using the
-- application/x-www-form-urlencoded encoding algorithm per Appendix B, and the encoded
-- value is used as the username; the client password is encoded using the same
-- algorithm and used as the password."
local function form_urlencode(s)
  s = s:gsub("[^%w%*%-%._ ]", function(c) return string.format("%%%02X", c:byte()) end)
  return (s:gsub(" ", "+"))
end

local BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local function base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local quad = {}
    for shift = 18, 0, -6 do
      local index = math.floor(n / 2 ^ shift) % 64
      quad[#quad + 1] = BASE64:sub(index + 1, index + 1)
    end
    if not b then quad[3] = "=" end
    if not c then quad[4] = "=" end
    out[#out + 1] = table.concat(quad)
  end
  return table.concat(out)
end

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
wrk.headers["Authorization"] = "Basic " ..
  base64(form_urlencode(client_id) .. ":" .. form_urlencode(client_secret))
