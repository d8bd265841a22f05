-- WRK_THREADS=1 POOL_FILE=emails.txt PASSWORD=... CSRF_COOKIE=... CSRF_TOKEN=... \
--   wrk -t1 -s bench/wrk/login.lua http://127.0.0.1:PORT
-- Sign-in storm: POST /login as the browser form does (csrf_token, username, password,
-- continue=/), with the sp_csrf cookie the form's token belongs to (CSRF_COOKIE: the cookie
-- value from a GET /login, CSRF_TOKEN: the form's hidden csrf_token; the pair stays valid).
-- Users go round POOL_FILE (emails), all with PASSWORD. Success is 303 (to "/"): any other
-- status counts in non_2xx.
local here = os.getenv("BENCH_DIR") and (os.getenv("BENCH_DIR") .. "/wrk/")
  or debug.getinfo(1, "S").source:match("^@(.*/)") or ""
dofile(here .. "pool.lua")

expected_status = 303
local tail = "&password=" .. form_urlencode(pool_need_env("PASSWORD")) .. "&continue=%2F"
local head = "csrf_token=" .. form_urlencode(pool_need_env("CSRF_TOKEN")) .. "&username="
local cookie = "sp_csrf=" .. pool_need_env("CSRF_COOKIE")
local pool

function init(args)
  pool = pool_open(pool_need_env("POOL_FILE"), "cycle")
end

function request()
  return wrk.format("POST", "/login", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = cookie,
  }, head .. form_urlencode(pool_next(pool)) .. tail)
end
