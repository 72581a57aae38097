-- Update a session only if it still exists: a session deleted by a concurrent logout or
-- revocation must stay deleted (Django ticket #21608), never be written back.
-- KEYS[1] session hash; ARGV[1] signed data, ARGV[2] ttl s, ARGV[3] user id.
-- Returns 1 updated, 0 the session is gone.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'd', ARGV[1], 'u', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
