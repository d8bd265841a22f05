-- wrk -s bench/wrk/get.lua http://127.0.0.1:PORT/path
-- Plain GET; sends "Authorization: Bearer $TOKEN" when TOKEN is set and not empty.
-- Prints the JSON summary of summary.lua (found beside this file, or in $BENCH_DIR/wrk).

local here = os.getenv("BENCH_DIR") and (os.getenv("BENCH_DIR") .. "/wrk/")
  or debug.getinfo(1, "S").source:match("^@(.*/)") or ""
dofile(here .. "summary.lua")

wrk.method = "GET"
local token = os.getenv("TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
