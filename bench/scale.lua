-- wrk script of the scale bench: GET requests that take turns over several paths (BENCH_PATHS, separated
-- by spaces), so that one run reads several records, not one cached in every layer. BENCH_TOKEN: the bearer.
local paths = {}
for path in string.gmatch(os.getenv("BENCH_PATHS") or "/health", "%S+") do
  table.insert(paths, path)
end
local token = os.getenv("BENCH_TOKEN")
local count = 0

function init(args)
  headers = {}
  if token then headers["Authorization"] = "Bearer " .. token end
end

function request()
  count = count + 1
  return wrk.format("GET", paths[1 + count % #paths], headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "errors": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
