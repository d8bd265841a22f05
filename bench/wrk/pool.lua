-- Shared by the pool scripts of bench/wrk (refresh.lua, code_exchange.lua, bearer_pool.lua,
-- introspect.lua, mixed.lua, login.lua): loads summary.lua, gives each wrk thread its own
-- contiguous slice of a file of values (one per line), and hands them out one per request.
--
--   local p = pool_open(path, mode, transform)   -- in init(): this thread's slice of the file,
--                                                -- each value passed through transform (if
--                                                -- given) once, here, not on every request
--   local v = pool_next(p)            -- in request(): the next value, or nil
--
-- mode "once": every value is used at most once over the whole run (refresh tokens and codes
-- are single use); when this thread's slice runs out pool_next() answers nil and counts the
-- request in pool_exhausted (the script then sends a placeholder the server refuses, so the
-- run shows non-2xx answers and "pool_exhausted" > 0 in the summary: make the pool bigger).
-- mode "cycle": starts again from the top of the slice (tokens a server keeps accepting).
-- Every value handed out counts in pool_used.
--
-- Threads: wrk gives scripts no thread count, so the slices need WRK_THREADS (wrk's -t; the
-- harness exports it). A thread whose number is not below WRK_THREADS stops wrk with an error
-- instead of sharing a slice.

local here = os.getenv("BENCH_DIR") and (os.getenv("BENCH_DIR") .. "/wrk/")
  or debug.getinfo(1, "S").source:match("^@(.*/)") or ""
dofile(here .. "summary.lua")
dofile(here .. "form.lua")

local function fatal(message)
  io.stderr:write(message .. "\n")
  os.exit(2)
end

function pool_need_env(name)
  local v = os.getenv(name)
  if not v or v == "" then fatal("set " .. name) end
  return v
end

function pool_open(path, mode, transform)
  mode = mode or "once"
  local threads = tonumber(os.getenv("WRK_THREADS") or "1")
  local index = thread_index or 0
  if index >= threads then
    fatal(string.format("pool.lua: thread %d of a run with WRK_THREADS=%d: export WRK_THREADS " ..
      "(the -t given to wrk)", index, threads))
  end
  local f = io.open(path, "r")
  if not f then fatal("pool.lua: cannot read " .. path) end
  f:close()
  local total = 0
  for _ in io.lines(path) do total = total + 1 end
  local per = math.floor(total / threads)
  local first = index * per + 1
  local last = (index == threads - 1) and total or (first + per - 1)
  local values, i = {}, 0
  for line in io.lines(path) do
    i = i + 1
    if i > last then break end
    if i >= first and line ~= "" then values[#values + 1] = transform and transform(line) or line end
  end
  if #values == 0 then fatal("pool.lua: no values for thread " .. index .. " in " .. path) end
  return {values = values, pos = 0, mode = mode}
end

function pool_next(p)
  p.pos = p.pos + 1
  if p.pos > #p.values then
    if p.mode ~= "cycle" then
      pool_exhausted = pool_exhausted + 1
      return nil
    end
    p.pos = 1
  end
  pool_used = pool_used + 1
  return p.values[p.pos]
end

-- "Basic ..." from CLIENT_ID / CLIENT_SECRET (RFC 6749 §2.3.1: each form-urlencoded first).
function pool_basic_auth()
  local id, secret = pool_need_env("CLIENT_ID"), os.getenv("CLIENT_SECRET") or ""
  return basic_auth(id, secret)
end

-- A POST of an application/x-www-form-urlencoded body, with an Authorization header when
-- `auth` is given.
function pool_form_post(path, body, auth)
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = auth,
  }, body)
end
