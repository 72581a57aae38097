-- Store a value loaded after a cache miss, only if this filler still holds the lease.
-- KEYS[1] entry hash, KEYS[2] lease (same hash tag: one slot)
-- ARGV[1] lease token, ARGV[2] ttl ms, ARGV[3] version, then field/value pairs (d, g, t:<tag>...)
-- Returns 1 stored, 0 lease lost (an invalidation voided it), -1 a newer version is cached.
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[2])
local current = tonumber(redis.call('HGET', KEYS[1], 'v'))
if current and current > tonumber(ARGV[3]) then
  return -1
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[3], unpack(ARGV, 4))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
