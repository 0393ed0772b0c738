-- Shared by the benchmark's wrk scripts: a monotonic clock, per-thread counters gathered
-- in done(), and one JSON line on stdout that bench/load.py reads.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")

local common = {}

function common.now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

function common.lines(path)
  local result = {}
  local file = assert(io.open(path, "r"))
  for line in file:lines() do
    if line ~= "" then table.insert(result, line) end
  end
  file:close()
  return result
end

function common.percentile(sorted, p)
  if #sorted == 0 then return 0 end
  local index = math.max(1, math.ceil(#sorted * p / 100))
  return sorted[index]
end

-- Every thread of a script gets its number and the total, for striding shared inputs. The
-- total comes from the harness (BENCH_THREADS): wrk may start a thread, and run its init(),
-- before the next thread's setup() has run.
local threads = {}
function common.setup(thread)
  thread:set("thread_number", #threads)
  thread:set("thread_count", tonumber(os.getenv("BENCH_THREADS")))
  table.insert(threads, thread)
end

-- done(): sum the per-thread globals named in `counters`, gather the per-thread timing
-- lists named `timings` ("a,b,c" strings of milliseconds), print one JSON line.
function common.report(summary, latency, counters, timings)
  local totals = {}
  for _, name in ipairs(counters) do totals[name] = 0 end
  local samples = {}
  for _, t in ipairs(threads) do
    for _, name in ipairs(counters) do totals[name] = totals[name] + (t:get(name) or 0) end
    if timings then
      local text = t:get(timings) or ""
      for value in string.gmatch(text, "[^,]+") do table.insert(samples, tonumber(value)) end
    end
  end
  table.sort(samples)
  local parts = {}
  for name, value in pairs(totals) do table.insert(parts, string.format('"%s": %d', name, value)) end
  table.insert(parts, string.format('"requests": %d', summary.requests))
  table.insert(parts, string.format('"duration_us": %d', summary.duration))
  table.insert(parts, string.format('"errors_connect": %d', summary.errors.connect))
  table.insert(parts, string.format('"errors_read": %d', summary.errors.read))
  table.insert(parts, string.format('"errors_status": %d', summary.errors.status))
  table.insert(parts, string.format('"errors_timeout": %d', summary.errors.timeout))
  table.insert(parts, string.format('"latency_p50_us": %.1f', latency:percentile(50)))
  table.insert(parts, string.format('"latency_p99_us": %.1f', latency:percentile(99)))
  table.insert(parts, string.format('"latency_mean_us": %.1f', latency.mean))
  if timings then
    table.insert(parts, string.format('"sequences_timed": %d', #samples))
    table.insert(parts, string.format('"sequence_p50_ms": %.3f', common.percentile(samples, 50)))
    table.insert(parts, string.format('"sequence_p99_ms": %.3f', common.percentile(samples, 99)))
  end
  io.write("BENCH_RESULT {" .. table.concat(parts, ", ") .. "}\n")
end

return common
