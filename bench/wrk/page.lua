-- GET one page again and again with the session in BENCH_COOKIE; counts answers that are
-- not the expected status (BENCH_STATUS, default 200) so a redirect to the sign-in page
-- can never pass for a fast page.
package.path = os.getenv("BENCH_WRK_DIR") .. "/?.lua;" .. package.path
local common = require("common")

setup = common.setup

function init(args)
  expected = tonumber(os.getenv("BENCH_STATUS") or "200")
  ok, wrong = 0, 0
  local cookie = os.getenv("BENCH_COOKIE") or ""
  if cookie ~= "" then wrk.headers["Cookie"] = cookie end
  wrk.headers["X-Forwarded-Proto"] = "https"
end

function response(status, headers, body)
  if status == expected then ok = ok + 1 else wrong = wrong + 1 end
end

function done(summary, latency, requests)
  common.report(summary, latency, { "ok", "wrong" })
end
