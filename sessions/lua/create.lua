-- Create a session only if the key is free (Django's CreateError contract).
-- KEYS[1] session hash; ARGV[1] signed data, ARGV[2] ttl s, ARGV[3] now (ms), ARGV[4] user id.
-- Returns 1 created, 0 the key exists.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'd', ARGV[1], 'c', ARGV[3], 's', ARGV[3], 'u', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
