-- Read-only roll-up of many entities' windows and hour totals (sentimon.store.rollups).
-- KEYS: H hour keys per entity. ARGV: H, the number of windows W, the number E of fields
-- summed after the stats and their names (0, or 3: the story fields), then per span
-- (window, hour index, first minute, last minute). Reply per entity: the F = 6 + E totals
-- of each of the H hours, then the F sums of each window, comma-separated.
-- Loops: the spans (<= MAX_ROLLUP_SPANS) and their minutes (<= 60 each, F fields a
-- minute); the hour keys in KEYS (<= MAX_ROLLUP_KEYS), and per partly covered hour its
-- fields (<= 549). The bounds are sentimon.store.rollups', checked before each call.
--
-- An hour a window covers only partly is read whole (HGETALL) and its minute fields summed
-- here: a small hash is a listpack, where each HMGET field is a linear scan, so walking it
-- once is several times faster than asking for the minutes one by one.
local H, W, E = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local STAT = {__STAT_FIELDS__}
for i = 1, E do STAT[#STAT + 1] = ARGV[3 + i] end
local F = #STAT
local function zeros()
  local z = {}
  for j = 1, F do z[j] = 0 end
  return z
end
-- per hour: full[h] = windows covering it whole; targets[h][field] = {window, stat} pairs
local full, targets = {}, {}
for h = 1, H do full[h] = {} end
for i = 4 + E, #ARGV, 4 do
  local w, h, first, last = tonumber(ARGV[i]), tonumber(ARGV[i + 1]),
                            tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  if first == 0 and last == 59 then
    full[h][#full[h] + 1] = w
  else
    local t = targets[h]
    if not t then
      t = {}
      for j = 1, F do t[STAT[j]] = {{0, j}} end
      targets[h] = t
    end
    for m = first, last do
      for j = 1, F do
        local name = m .. '__FIELD_SEP__' .. STAT[j]
        local list = t[name] or {}
        list[#list + 1] = {w, j}
        t[name] = list
      end
    end
  end
end
local out = {}
for e = 0, #KEYS / H - 1 do
  local parts, np, sums = {}, 0, {}
  for w = 1, W do sums[w] = zeros() end
  for h = 1, H do
    local key, t = KEYS[e * H + h], targets[h]
    local totals
    if t then
      totals = zeros()
      local flat = redis.call('HGETALL', key)
      for i = 1, #flat, 2 do
        local list = t[flat[i]]
        if list then
          local x = tonumber(flat[i + 1])
          for _, target in ipairs(list) do
            if target[1] == 0 then
              totals[target[2]] = x
            else
              local acc = sums[target[1]]
              acc[target[2]] = acc[target[2]] + x
            end
          end
        end
      end
      for j = 1, F do np = np + 1; parts[np] = string.format('%d', totals[j]) end
    else
      local v
      if E > 0 then
        v = redis.call('HMGET', key, unpack(STAT))
      else
        v = redis.call('HMGET', key, __STAT_FIELDS__)
      end
      for j = 1, F do np = np + 1; parts[np] = v[j] or '0' end
      if #full[h] > 0 then
        totals = {}
        for j = 1, F do totals[j] = tonumber(v[j]) or 0 end
      end
    end
    for _, w in ipairs(full[h]) do
      local acc = sums[w]
      for j = 1, F do acc[j] = acc[j] + totals[j] end
    end
  end
  for w = 1, W do
    for j = 1, F do np = np + 1; parts[np] = string.format('%d', sums[w][j]) end
  end
  out[#out + 1] = table.concat(parts, ',')
end
return out
