-- The alert hook's reads of one batch (sentimon.alerts.state.AlertStore.fetch). Read-only.
-- KEYS: the lifecycle records hash, the open-alert index, the silences.
-- Returns the records of ARGV's ``fields`` (nil where absent), the open index and the
-- silences (flat field/value lists), then the window reads: it sums the aggregate fields
-- ``RANGE_FIELDS`` over each post range of minutes (an hour's totals when a span covers
-- the whole hour; the minutes of an hour that ranges cut into with one HMGET over the
-- union of those minutes), returns the non-empty windows of each baseline-sums request
-- as flat ``index n s ss`` quadruples (the order of ALERT_WINDOW_FIELDS), and last sums
-- the story fields ``STORY_RANGE_FIELDS`` over each story range, as for the post ranges.
-- ARGV[1]: {"fields": [record field, ...],
--           "ranges": [[[hour key, first, last], ...], ...],
--           "stories": [[[hour key, first, last], ...], ...],
--           "windows": [[[sums key, first index, last index], ...], ...]}
-- Loops, bounded before each call (``check_read_bounds``, counted by ``read_work``, with
-- the bounds of sentimon.alerts.state; post and story ranges counted alike):
-- - the records, the hour totals, the minute unions and the window blocks (building their
--   field names, then going through what HMGET returned): fields <= MAX_READ_FIELDS;
-- - the ranges' spans, twice (the unions, then the sums): spans <= MAX_READ_SPANS;
-- - the minutes of each span that cuts into its hour: minutes <= MAX_READ_MINUTES.
-- HGETALL of the open index and the silences returns them whole (no loop in the script):
-- their size is that of the open alerts and silences, whatever the batch.
local spec = cjson.decode(ARGV[1])
-- Records in chunks: Lua's unpack() takes at most a few thousand values at a time.
local records = {}
for i = 1, #spec.fields, __UNPACK_CHUNK__ do
  local last = math.min(i + __UNPACK_CHUNK__ - 1, #spec.fields)
  local chunk = redis.call('HMGET', KEYS[1], unpack(spec.fields, i, last))
  for k = 1, #chunk do records[#records + 1] = chunk[k] end
end
local opened = redis.call('HGETALL', KEYS[2])
local silences = redis.call('HGETALL', KEYS[3])
-- Field-name lists ``<i>:<suffix>`` for i = first..last, built once per script call: the
-- ranges of one batch mostly share their minutes (and the baseline requests their window
-- indexes) across entities.
local window_names = {__ALERT_WINDOW_FIELDS__}
local built = {}
local function field_names(first, last, suffixes)
  local id = #suffixes .. suffixes[1] .. ':' .. first .. ':' .. last
  local fields = built[id]
  if not fields then
    fields = {}
    for i = first, last do
      for _, f in ipairs(suffixes) do fields[#fields + 1] = i .. '__FIELD_SEP__' .. f end
    end
    built[id] = fields
  end
  return fields
end
-- Sums the fields ``names`` over each range of ``ranges``. Each hour a range cuts into is
-- read once, with one HMGET over the union of the minutes its ranges need (consecutive
-- ticks of one entity overlap in all but a minute); each hour a range covers whole, once
-- for its totals. Called twice: the post ranges (RANGE_FIELDS), the story ranges
-- (STORY_RANGE_FIELDS).
local function sum_ranges(ranges, names)
  local width = #names
  local union = {}
  for _, spans in ipairs(ranges) do
    for _, span in ipairs(spans) do
      if not (span[2] == 0 and span[3] == 59) then
        local u = union[span[1]]
        if not u then
          union[span[1]] = {span[2], span[3]}
        else
          if span[2] < u[1] then u[1] = span[2] end
          if span[3] > u[2] then u[2] = span[3] end
        end
      end
    end
  end
  local minutes_of = {}
  local function minute_values(key)
    local values = minutes_of[key]
    if not values then
      local u = union[key]
      values = redis.call('HMGET', key, unpack(field_names(u[1], u[2], names)))
      minutes_of[key] = values
    end
    return values, union[key][1]
  end
  local totals_of = {}
  local function hour_totals(key)
    local totals = totals_of[key]
    if not totals then
      totals = {}
      for k = 1, width do totals[k] = 0 end
      for k, v in ipairs(redis.call('HMGET', key, unpack(names))) do
        if v then totals[k] = tonumber(v) end
      end
      totals_of[key] = totals
    end
    return totals
  end
  local sums = {}
  for _, spans in ipairs(ranges) do
    local total = {}
    for k = 1, width do total[k] = 0 end
    for _, span in ipairs(spans) do
      local key, lo, hi = span[1], span[2], span[3]
      if lo == 0 and hi == 59 then
        local totals = hour_totals(key)
        for k = 1, width do total[k] = total[k] + totals[k] end
      else
        local values, first = minute_values(key)
        for j = (lo - first) * width + 1, (hi - first + 1) * width do
          local v = values[j]
          if v then
            local k = (j - 1) % width + 1
            total[k] = total[k] + tonumber(v)
          end
        end
      end
    end
    for k = 1, width do sums[#sums + 1] = total[k] end
  end
  return sums
end
local names = {__RANGE_FIELDS__}
local story_names = {__STORY_RANGE_FIELDS__}
local sums = sum_ranges(spec.ranges, names)
local story_sums = sum_ranges(spec.stories, story_names)
local windows = {}
for _, blocks in ipairs(spec.windows) do
  local found = {}
  for _, block in ipairs(blocks) do
    local fields = field_names(block[2], block[3], window_names)
    local values = redis.call('HMGET', block[1], unpack(fields))
    for k = 0, block[3] - block[2] do
      local n = values[3 * k + 1]
      if n and tonumber(n) > 0 then
        found[#found + 1] = block[2] + k
        found[#found + 1] = tonumber(n)
        found[#found + 1] = tonumber(values[3 * k + 2] or 0)
        found[#found + 1] = tonumber(values[3 * k + 3] or 0)
      end
    end
  end
  windows[#windows + 1] = found
end
return {records, opened, silences, sums, windows, story_sums}
