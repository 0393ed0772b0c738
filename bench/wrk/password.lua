-- The password step alone: each request posts the password into a session whose
-- identifier step was done beforehand (one prepared session per request, in BENCH_SESSIONS:
-- "sessionid<TAB>password<TAB>user name" lines), from the user's own browser (its cookie is
-- BENCH_BROWSER_PREFIX plus the user name), to the URL's path (the sign-in page, or a floor of
-- bench/floors.py). A right password answers 302 to the dashboard.
package.path = os.getenv("BENCH_WRK_DIR") .. "/?.lua;" .. package.path
local common = require("common")

setup = common.setup

function init(args)
  local all = common.lines(os.getenv("BENCH_SESSIONS"))
  sessions = {}
  for i = thread_number + 1, #all, thread_count do table.insert(sessions, all[i]) end
  position, ok, wrong, exhausted = 0, 0, 0, 0
  csrf = os.getenv("BENCH_CSRF")
  origin = os.getenv("BENCH_ORIGIN")
  browser_prefix = os.getenv("BENCH_BROWSER_PREFIX")
end

function request()
  position = position + 1
  local line = sessions[position]
  if line == nil then
    exhausted = exhausted + 1
    return wrk.format("GET", "/healthz/live", { ["X-Forwarded-Proto"] = "https" })
  end
  local session, password, user = line:match("([^\t]+)\t([^\t]+)\t(.+)")
  local body = "csrfmiddlewaretoken=" .. csrf
    .. "&login_view-current_step=auth&auth-password=" .. password
  return wrk.format("POST", wrk.path, {
    ["X-Forwarded-Proto"] = "https",
    ["Origin"] = origin,
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=" .. csrf .. "; sessionid=" .. session
      .. "; portal_browser=" .. browser_prefix .. user,
  }, body)
end

function response(status, headers, body)
  if status == 302 then ok = ok + 1 else wrong = wrong + 1 end
end

function done(summary, latency, requests)
  common.report(summary, latency, { "ok", "wrong", "exhausted" })
end
