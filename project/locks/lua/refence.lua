-- The fence counter restarted (Redis lost it) behind the last fence the database saw:
-- if we still hold the lock, move the counter past that fence and take the next number.
-- KEYS[1] lock, KEYS[2] fence counter; ARGV[1] token, ARGV[2] the database's fence.
-- Returns the new fencing number, or false if the lock is no longer ours.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return false
end
local floor = tonumber(ARGV[2])
if tonumber(redis.call('GET', KEYS[2]) or '0') < floor then
  redis.call('SET', KEYS[2], floor)
end
return redis.call('INCR', KEYS[2])
