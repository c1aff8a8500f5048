-- wrk script (tests/http/run.sh, scripts/bench_http.sh) for
-- examples/asio_http_server: every request asks GET /double/N for a new N
-- (unique per wrk thread, both signs), every response must be 200 with the
-- body "N*2=V\n", V == 2N, for an N this thread asked and has not had
-- answered yet. done() prints one line:
--   check: responses=R ok=O bad=B errors=E
-- (E: wrk's socket errors and non-2xx/3xx responses) and, if any, the first
-- bad response. Arguments after "--": the query string to append to each
-- path, e.g. "?sleep_ms=2" (default: none).

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  suffix = args[1] or ""
  sent = 0
  outstanding = {}
  ok = 0
  bad = 0
  first_bad = ""
end

function request()
  sent = sent + 1
  local n = id * 1000000000 + sent
  if sent % 2 == 0 then n = -n end
  local key = string.format("%d", n)
  outstanding[key] = (outstanding[key] or 0) + 1
  return wrk.format("GET", "/double/" .. key .. suffix)
end

function response(status, headers, body)
  local n, v = string.match(body, "^(%-?%d+)%*2=(%-?%d+)\n$")
  if status == 200 and n ~= nil and (outstanding[n] or 0) > 0
      and tonumber(v) == 2 * tonumber(n) then
    outstanding[n] = outstanding[n] - 1
    if outstanding[n] == 0 then outstanding[n] = nil end
    ok = ok + 1
  else
    bad = bad + 1
    if first_bad == "" then
      first_bad = string.format("status %d body %q", status, body)
    end
  end
end

function done(summary, latency, requests)
  local ok_total, bad_total, first = 0, 0, ""
  for _, thread in ipairs(threads) do
    ok_total = ok_total + thread:get("ok")
    bad_total = bad_total + thread:get("bad")
    if first == "" then first = thread:get("first_bad") end
  end
  local e = summary.errors
  io.write(string.format("check: responses=%d ok=%d bad=%d errors=%d\n", summary.requests,
                         ok_total, bad_total, e.connect + e.read + e.write + e.status + e.timeout))
  if first ~= "" then io.write("check: first bad response: ", first, "\n") end
end
