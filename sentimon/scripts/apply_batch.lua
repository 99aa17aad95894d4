-- The atomic write of one batch (sentimon.store.sink.RedisSink.apply): checks the fences,
-- the guards and the post ids, and only then marks the ids seen, runs the plan's commands
-- and advances the fences, all in one atomic step.
--
-- KEYS: none (one namespace; the keys travel in the plan). ARGV[1]: the plan as JSON
-- (``RedisSink.apply``); ARGV[2..]: its shared values.
-- Returns {'ok'}, {'fenced', field, stored offset}, {'conflict', key, field} or
-- {'dup', id, ...}.
-- Loops, each bounded above (the bounds are sentimon.store.sink's, checked by check_plan
-- before each call):
--   refs      the plan's shared-argument slots (<= its commands' arguments);
--   fences    twice (check, then advance)                <= MAX_PLAN_FENCES;
--   guards    once                                       <= MAX_PLAN_GUARDS;
--   ids       twice (look up, then mark seen)            <= MAX_PLAN_IDS;
--   commands  once, a HINCRBY* group field by field and a SETEX* group key by key
--                                                        <= MAX_PLAN_COMMANDS in all.
local plan = cjson.decode(ARGV[1])
for _, ref in ipairs(plan.refs) do plan.commands[ref[1]][ref[2]] = ARGV[ref[3]] end
local okey = plan.offsets_key
for _, f in ipairs(plan.fences) do
  local stored = redis.call('HGET', okey, f[1])
  if stored and tonumber(stored) >= tonumber(f[2]) then
    return {'fenced', f[1], stored}
  end
end
for _, g in ipairs(plan.guards) do
  local value
  if g[2] == cjson.null then
    value = redis.call('GET', g[1])  -- a guard on a string key (the story index)
  else
    value = redis.call('HGET', g[1], g[2])
  end
  local expected = g[3]
  if expected == cjson.null then expected = false end
  if value ~= expected then return {'conflict', g[1], g[2]} end
end
if plan.horizon > 0 then
  local dups = {}
  for _, id in ipairs(plan.ids) do
    if redis.call('EXISTS', plan.seen_prefix .. id) == 1 then dups[#dups + 1] = id end
  end
  if #dups > 0 then
    table.insert(dups, 1, 'dup')
    return dups
  end
  for _, id in ipairs(plan.ids) do
    redis.call('SET', plan.seen_prefix .. id, '1', 'EX', plan.horizon)
  end
end
for _, c in ipairs(plan.commands) do
  if c[1] == 'HINCRBY*' then
    local key = c[2]
    for i = 3, #c, 2 do redis.call('HINCRBY', key, c[i], c[i + 1]) end
  elseif c[1] == 'SETEX*' then
    -- ttl key value key value ...: string keys that expire together (the story index)
    local ttl = c[2]
    for i = 3, #c, 2 do redis.call('SET', c[i], c[i + 1], 'EX', ttl) end
  elseif c[1] == 'WATERMARK' then
    -- key field value [cap]: the watermark only rises, and never above cap; a stored one
    -- above cap (written before event times were bounded) is replaced by this batch's
    local current = tonumber(redis.call('HGET', c[2], c[3]) or '-1')
    local value, cap = tonumber(c[4]), tonumber(c[5] or '')
    if value > current or (cap and current > cap) then
      redis.call('HSET', c[2], c[3], c[4])
    end
  else
    redis.call(unpack(c))
  end
end
for _, f in ipairs(plan.fences) do redis.call('HSET', okey, f[1], f[3]) end
return {'ok'}
