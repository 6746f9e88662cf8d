-- wrk script for bench/run.py: one request shape (from the environment), every answer checked.
--
-- A Slack error is HTTP 200 with {"ok":false}, so status codes alone would count failures as
-- throughput: each response must be a 200 whose body contains "ok":true. The summary is one
-- line `BENCH_JSON {...}` (latencies in microseconds) that run.py parses.
--
--   BENCH_METHOD=POST BENCH_BODY='{"channel":"C1","text":"hi"}' \
--   BENCH_CTYPE='application/json;charset=utf-8' BENCH_TOKEN=xoxb-... \
--   wrk -t1 -c16 -d5s -s bench/load.lua http://127.0.0.1:8000/api/chat.postMessage

wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
if body ~= nil and body ~= "" then
  wrk.body = body
end
local ctype = os.getenv("BENCH_CTYPE")
if ctype ~= nil and ctype ~= "" then
  wrk.headers["Content-Type"] = ctype
end
local token = os.getenv("BENCH_TOKEN")
if token ~= nil and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
wrk.headers["User-Agent"] = "Python/3.11 slackclient/3 bench"

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  good = 0
  bad = 0
  sample = ""
end

function response(status, headers, resp_body)
  if status == 200 and string.find(resp_body, '"ok":true', 1, true) then
    good = good + 1
  else
    bad = bad + 1
    if sample == "" then
      sample = tostring(status) .. " " .. string.sub(resp_body or "", 1, 160)
    end
  end
end

function done(summary, latency, requests)
  local total_good, total_bad, first = 0, 0, ""
  for _, t in ipairs(threads) do
    total_good = total_good + t:get("good")
    total_bad = total_bad + t:get("bad")
    local s = t:get("sample")
    if first == "" and s ~= nil then
      first = s
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"mean_us":%.1f,"good":%d,"bad":%d,"err_connect":%d,"err_read":%d,"err_write":%d,' ..
    '"err_status":%d,"err_timeout":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, total_good, total_bad, e.connect, e.read,
    e.write, e.status, e.timeout))
  if first ~= "" then
    io.write("BENCH_SAMPLE " .. first:gsub("\n", " ") .. "\n")
  end
end
