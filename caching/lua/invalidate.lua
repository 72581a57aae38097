-- Invalidate an entry at a version: leave a tombstone (no data) so that no fill or
-- write-through of an older version can land afterwards, and void any lease.
-- A value already newer than the invalidation is kept: it reflects a later commit.
-- KEYS[1] entry hash, KEYS[2] lease; ARGV[1] ttl ms, ARGV[2] version.
-- Returns 1 invalidated, 0 kept a newer value.
redis.call('DEL', KEYS[2])
local entry = redis.call('HMGET', KEYS[1], 'v', 'd')
local current = tonumber(entry[1])
if current and current > tonumber(ARGV[2]) and entry[2] then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', string.format('%d', math.max(current or 0, tonumber(ARGV[2]))))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
