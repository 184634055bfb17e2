-- wrk script for the bench. Environment: BENCH_MODE (get | signal | item), BENCH_PATH, BENCH_TOKEN, BENCH_RUN.
-- get: BENCH_PATH may hold several paths separated by spaces, taken in turn, so that one run reads
-- several records, not one cached in every layer (the scale bench).
-- signal: every request a POST with its own Idempotency-Key and its own subject (a new person each time).
-- item: every request a POST of a new item to the baseline service (bench/baseline.py).
local mode = os.getenv("BENCH_MODE") or "get"
local paths = {}
for each in string.gmatch(os.getenv("BENCH_PATH") or "/health", "%S+") do
  table.insert(paths, each)
end
local path = paths[1]
local token = os.getenv("BENCH_TOKEN")
local run = os.getenv("BENCH_RUN") or tostring(os.time())
local body_format = '{"subject":{"name":"Bench Persoon %s","date_of_birth":"1990-01-01"},' ..
  '"categories":["social_isolation","online_propaganda"],"description":"Trekt zich terug (benchmark).",' ..
  '"observed_at":"2026-11-20T10:00:00Z","urgency":"normal","channel":"registration_system","district":"Centrum"}'
local item_format = '{"title":"Bench item %s","description":"Een regel tekst (benchmark)."}'

local count = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  headers = {}
  if token then headers["Authorization"] = "Bearer " .. token end
  if mode ~= "get" then headers["Content-Type"] = "application/json" end
end

function request()
  count = count + 1
  if mode == "get" then
    return wrk.format("GET", paths[1 + count % #paths], headers)
  end
  local id = run .. "-" .. tid .. "-" .. count
  if mode == "item" then
    return wrk.format("POST", path, headers, string.format(item_format, id))
  end
  headers["Idempotency-Key"] = "bench-" .. id
  return wrk.format("POST", path, headers, string.format(body_format, id))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "errors": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
