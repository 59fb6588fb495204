-- wrk script: GET one path with a bearer token, and print one JSON line at the end: requests,
-- 200 answers, others, and latency percentiles in microseconds. Argument (after --): <token>.
-- Like a browser or any HTTP client, it accepts compressed answers (the bare GET is asked the same).

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  ok, other = 0, 0
  wrk.headers["Accept-Encoding"] = "gzip, br"
  if args[1] and #args[1] > 0 then
    wrk.headers["Authorization"] = "Bearer " .. args[1]
  end
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local c, o = 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("ok")
    o = o + t:get("other")
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"created":%d,"other":%d,"socket_errors":%d,' ..
    '"p50_us":%d,"p99_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, c, o, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
