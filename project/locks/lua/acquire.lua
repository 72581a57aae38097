-- Take the lock if free and hand out the next fencing number.
-- KEYS[1] lock, KEYS[2] fence counter (same hash tag); ARGV[1] token, ARGV[2] ttl ms.
-- Returns the fencing number, or false if someone else holds the lock.
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return false
