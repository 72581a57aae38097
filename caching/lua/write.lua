-- Write-through: store a committed value unless a newer version is already cached, and void
-- any lease so that fills loaded before this write are dropped.
-- KEYS[1] entry hash, KEYS[2] lease; ARGV[1] ttl ms, ARGV[2] version, then field/value pairs.
-- Returns 1 stored, -1 a newer version (or a deletion tombstone) is cached.
redis.call('DEL', KEYS[2])
local current = tonumber(redis.call('HGET', KEYS[1], 'v'))
if current and current > tonumber(ARGV[2]) then
  return -1
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[2], unpack(ARGV, 3))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
