-- Record "last seen" on a live session; never recreate a deleted one as a bare hash.
-- KEYS[1] session hash; ARGV[1] now (ms). Returns 1 touched, 0 gone.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 's', ARGV[1])
return 1
