-- wrk script for bench/web.py: GET requests over a rotating list of paths with the session
-- cookie (or a bearer token), and the latency percentiles printed in done() for web.py to parse.
--
--   wrk -t1 -c20 -d15s -s bench/web_wrk.lua http://127.0.0.1:PORT -- PATHS_FILE "Cookie: name=value"
--
-- PATHS_FILE holds one path per line. Each thread starts at its own place in the list and then
-- walks it in a shuffled order, so every connection asks for a mix of pages.

local paths = {}
local headers = {}
local counter = 0
local thread_id = 0
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("thread_id", next_id)
end

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    if #line > 0 then paths[#paths + 1] = line end
  end
  file:close()
  local name, value = string.match(args[2] or "", "^([^:]+):%s*(.*)$")
  if name then headers[name] = value end
  math.randomseed(thread_id * 7919)
  for i = #paths, 2, -1 do  -- Fisher-Yates: a fixed, per-thread shuffled order
    local j = math.random(i)
    paths[i], paths[j] = paths[j], paths[i]
  end
  counter = thread_id
end

function request()
  counter = counter % #paths + 1
  return wrk.format("GET", paths[counter], headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d duration_us=%d non2xx3xx=%d connect=%d read=%d write=%d timeout=%d " ..
    "p50_us=%d p95_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
