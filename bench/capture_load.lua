-- wrk script: every request is a new person (unique email and Idempotency-Key), as real traffic is.
local run = os.getenv("BENCH_RUN") or "0"
local key = os.getenv("FORM_KEY")
local path = os.getenv("BENCH_PATH")
local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local counter = 0
function request()
  counter = counter + 1
  local id = string.format("%s-%d-%d", run, tid, counter)
  local body = string.format(
    '{"first_name":"Bench","last_name":"User %d","email":"bench-%s@example.com","company":"Bench Co %d","utm_source":"bench"}',
    counter, id, counter % 500)
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/json",
    ["X-Form-Key"] = key,
    ["Idempotency-Key"] = id,
  }, body)
end
