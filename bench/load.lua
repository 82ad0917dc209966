-- wrk script of the benchmark scenarios: wrk -s bench/load.lua URL -- SCENARIO DATA_FILE RUN SEED
--   SCENARIO  list | get | create | patch | mixed | batch
--   DATA_FILE a Lua file written by bench/run.py that returns {key=, companies={}, missions={},
--             descriptions={}}: the seeded partner's key, company ids, mission ids, JDs
--   RUN       a tag unique to this invocation, so that created external ids never collide
--   SEED      an integer seeding the random picks (ids, cursors, JDs); each wrk thread mixes
--             in its own number, so threads and invocations send different sequences, and the
--             same SEED sends the same sequences again
local scenario, data, run
local counter = 0
local base = "/partners/v1/missions"

local function pick(list)
  return list[math.random(#list)]
end

local function cursor()
  -- A page after a random seeded mission (or the first page): base64url of the id, no padding.
  local id = pick(data.missions)
  local chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
  local out, bits, value = {}, 0, 0
  for i = 1, #id do
    value = value * 256 + id:byte(i)
    bits = bits + 8
    while bits >= 6 do
      bits = bits - 6
      local index = math.floor(value / 2 ^ bits) % 64
      out[#out + 1] = chars:sub(index + 1, index + 1)
    end
    value = value % 2 ^ bits
  end
  if bits > 0 then
    local index = (value * 2 ^ (6 - bits)) % 64
    out[#out + 1] = chars:sub(index + 1, index + 1)
  end
  return table.concat(out)
end

local function json_string(text)
  return '"' .. text:gsub('[%c"\\]', function(c)
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function new_mission()
  counter = counter + 1
  return '{"external_id":"' .. run .. "-" .. thread_number .. "-" .. counter .. '",'
    .. '"company_id":"' .. pick(data.companies) .. '",'
    .. '"title":"Senior Backend Engineer ' .. counter .. '",'
    .. '"description":' .. json_string(pick(data.descriptions)) .. ","
    .. '"position":"software_engineering","location":"fr-paris","languages":["fr","en"],'
    .. '"contract_type":"permanent","remote_policy":"hybrid","experience_years_min":3,'
    .. '"salary":{"min":55000,"max":70000,"currency":"EUR","period":"year"},"openings":1}'
end

local function change()
  counter = counter + 1
  return '{"title":"Backend Engineer, platform ' .. run .. "-" .. thread_number .. "-" .. counter
    .. '",'
    .. '"salary":{"min":' .. (50000 + counter % 1000) .. ',"max":90000,"currency":"EUR",'
    .. '"period":"year"}}'
end

-- The answer of a batch of new missions: each of them created, none updated or failed.
local BATCH = 100
local ALL_CREATED = '"summary":{"created":' .. BATCH .. ',"updated":0,"unchanged":0,"failed":0}'

local requests = {}

function requests.list()
  if math.random(10) == 1 then
    return wrk.format("GET", base)
  end
  return wrk.format("GET", base .. "?cursor=" .. cursor())
end

function requests.get()
  return wrk.format("GET", base .. "/" .. pick(data.missions))
end

function requests.create()
  return wrk.format("POST", base, nil, new_mission())
end

function requests.patch()
  return wrk.format("PATCH", base .. "/" .. pick(data.missions), nil, change())
end

-- A batch of 100 new missions, each as the create scenario's, in one request.
function requests.batch()
  local items = {}
  for i = 1, BATCH do
    items[i] = new_mission()
  end
  return wrk.format("POST", base .. "/batch", nil, '{"items":[' .. table.concat(items, ",") .. "]}")
end

-- A partner keeping its JDs in sync: 80% reads (lists and single missions), 20% writes.
function requests.mixed()
  local roll = math.random(100)
  if roll <= 40 then
    return requests.list()
  elseif roll <= 80 then
    return requests.get()
  elseif roll <= 90 then
    return requests.create()
  end
  return requests.patch()
end

-- setup() runs in wrk's main Lua state, once per thread before that thread's init(): it hands
-- each thread its number (1, 2, ...), a global of the thread's own state.
local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("thread_number", #threads)
end

-- Batch answers: "created" are 200s whose summary says all 100 missions were created. wrk
-- calls response() only when init() defines it (batch), so the other scenarios skip the
-- parsing of every answer.
created, refused = 0, 0

local function batch_response(status, headers, body)
  if status == 200 and body:find(ALL_CREATED, 1, true) then
    created = created + 1
  else
    refused = refused + 1
  end
end

function done(summary, latency, requests)
  if not threads[1]:get("batching") then
    return
  end
  local all_created, not_created = 0, 0
  for _, thread in ipairs(threads) do
    all_created = all_created + thread:get("created")
    not_created = not_created + thread:get("refused")
  end
  io.write(string.format("Batches: %d all created, %d not\n", all_created, not_created))
end

function init(args)
  scenario, run = args[1], args[3]
  data = dofile(args[2])
  local seed = tonumber(args[4])
  if not seed or seed ~= math.floor(seed) or seed < 0 or seed >= 2 ^ 32 then
    error("SEED must be an integer from 0 to 2^32 - 1, not " .. tostring(args[4]))
  end
  thread_number = thread_number or 1
  -- Exact in a double for any SEED and up to 2^21 threads: one distinct seed per pair.
  math.randomseed(thread_number * 2 ^ 32 + seed)
  wrk.headers["Authorization"] = "Apikey " .. data.key
  wrk.headers["Content-Type"] = "application/json"
  if not requests[scenario] then
    error("unknown scenario " .. tostring(scenario))
  end
  if scenario == "batch" then
    batching, response = true, batch_response
  end
end

function request()
  return requests[scenario]()
end
