-- Drop a claim once its counts are committed, only if it is still the one we applied.
-- KEYS[1] claim; ARGV[1] claim id. Returns 1 dropped, 0 not ours.
if redis.call('HGET', KEYS[1], '_id') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
