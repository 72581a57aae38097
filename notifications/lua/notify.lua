-- Append one notification to a user's stream, once per delivery id, and wake the readers.
-- KEYS[1] stream, KEYS[2] delivered (sorted set of delivery ids), KEYS[3] read marker
-- ARGV[1] delivery id (the outbox row), ARGV[2] the notification (JSON), ARGV[3] how many
-- to keep, ARGV[4] TTL in seconds (from the newest), ARGV[5] now (ms), ARGV[6] the wake
-- channel, ARGV[7] the user id
-- Returns the entry's id, or false if this delivery was written before (a re-delivery).
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  return false
end
local keep = tonumber(ARGV[3])
-- Exact MAXLEN, not '~': the retention the docs promise is the one a reader gets.
local id = redis.call('XADD', KEYS[1], 'MAXLEN', keep, '*', 'd', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(keep + 1))
for i = 1, 3 do
  if i < 3 or redis.call('EXISTS', KEYS[3]) == 1 then
    redis.call('EXPIRE', KEYS[i], ARGV[4])
  end
end
redis.call('PUBLISH', ARGV[6], ARGV[7])
return id
