-- wrk script for the bench. Environment: BENCH_MODE (get | signal | item), BENCH_PATH, BENCH_TOKEN, BENCH_RUN.
-- signal: every request a POST with its own Idempotency-Key and its own subject (a new person each time).
-- item: every request a POST of a new item to the baseline service (bench/baseline.py).
local mode = os.getenv("BENCH_MODE") or "get"
local path = os.getenv("BENCH_PATH") or "/health"
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
  if mode == "get" then
    return wrk.format("GET", path, headers)
  end
  count = count + 1
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
