-- Shared by the wrk scripts that post forms: RFC 6749 Appendix B form encoding and HTTP
-- Basic client authentication (§2.3.1: "The client identifier is encoded using the
-- application/x-www-form-urlencoded encoding algorithm per Appendix B, and the encoded
-- value is used as the username; the client password is encoded using the same
-- algorithm and used as the password."). Defines globals form_urlencode and basic_auth.

function form_urlencode(s)
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

-- "Basic ..." for a client id and secret.
function basic_auth(id, secret)
  return "Basic " .. base64(form_urlencode(id) .. ":" .. form_urlencode(secret))
end
