-- Compare-and-set of one fence (after the broker lost a partition's data), counted in stats
-- (sentimon.store.sink.RedisSink.rebase_fence).
-- KEYS: the applied-offsets hash, the stats hash; ARGV: field, expected, new.
-- Returns 1 if the fence was set, 0 if it no longer held ``expected``.
-- No loops: at most three commands.
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HINCRBY', KEYS[2], '__OFFSET_RESETS__', 1)
return 1
