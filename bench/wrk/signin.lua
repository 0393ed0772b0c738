-- The full sign-in as a browser does it: the identifier page, the user name, the password
-- page it is redirected to, the password, then the dashboard it lands on. One connection per thread, so the state below is the
-- state of one browser. Users come from BENCH_USERS (one user name per line).
-- wrk keeps only the last of several Set-Cookie headers; Django sets the session cookie
-- last (SessionMiddleware is outermost), and anything else counts as a wrong answer.
-- Each user keeps one browser cookie (BENCH_BROWSER_PREFIX plus the user name), as a
-- returning browser does; see BROWSER_PREFIX in bench/load.py.
package.path = os.getenv("BENCH_WRK_DIR") .. "/?.lua;" .. package.path
local common = require("common")

setup = common.setup

function init(args)
  local all = common.lines(os.getenv("BENCH_USERS"))
  users = {}
  for i = thread_number + 1, #all, thread_count do table.insert(users, all[i]) end
  password = os.getenv("BENCH_PASSWORD")
  csrf = os.getenv("BENCH_CSRF")
  origin = os.getenv("BENCH_ORIGIN")
  browser_prefix = os.getenv("BENCH_BROWSER_PREFIX")
  step, user_index, session = "page", 0, ""
  sign_ins, wrong, timings, started = 0, 0, "", 0
end

local function browser()
  -- the portal's browser cookie: any value of 32 characters or more
  return "portal_browser=" .. browser_prefix .. users[user_index]
end

local function post(body, cookie)
  return wrk.format("POST", "/account/login/", {
    ["X-Forwarded-Proto"] = "https",
    ["Origin"] = origin,
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = cookie,
  }, "csrfmiddlewaretoken=" .. csrf .. "&" .. body)
end

function request()
  if step == "page" then
    started = common.now_ms()
    user_index = user_index % #users + 1
    return wrk.format("GET", "/account/login/", {
      ["X-Forwarded-Proto"] = "https", ["Cookie"] = "csrftoken=" .. csrf .. "; " .. browser(),
    })
  elseif step == "identify" then
    return post("login_view-current_step=identify&identify-username=" .. users[user_index],
      "csrftoken=" .. csrf .. "; " .. browser())
  elseif step == "password_page" then
    return wrk.format("GET", "/account/login/?step=auth", {
      ["X-Forwarded-Proto"] = "https",
      ["Cookie"] = "csrftoken=" .. csrf .. "; sessionid=" .. session .. "; " .. browser(),
    })
  elseif step == "password" then
    return post("login_view-current_step=auth&auth-password=" .. password,
      "csrftoken=" .. csrf .. "; sessionid=" .. session .. "; " .. browser())
  else
    return wrk.format("GET", "/dashboard/", {
      ["X-Forwarded-Proto"] = "https", ["Cookie"] = "sessionid=" .. session .. "; " .. browser(),
    })
  end
end

local function session_from(headers)
  local cookie = headers["Set-Cookie"] or headers["set-cookie"] or ""
  return cookie:match("^sessionid=([^;]+)")
end

local function fail()
  wrong = wrong + 1
  step = "page"
end

function response(status, headers, body)
  if step == "page" then
    if status == 200 then step = "identify" else fail() end
  elseif step == "identify" then
    session = session_from(headers)
    if status == 303 and session then step = "password_page" else fail() end
  elseif step == "password_page" then
    if status == 200 then step = "password" else fail() end
  elseif step == "password" then
    session = session_from(headers)
    if status == 302 and session then step = "dashboard" else fail() end
  else
    if status == 200 then
      sign_ins = sign_ins + 1
      timings = timings .. string.format("%.3f,", common.now_ms() - started)
    else
      wrong = wrong + 1
    end
    step = "page"
  end
end

function done(summary, latency, requests)
  common.report(summary, latency, { "sign_ins", "wrong" }, "timings")
end
