-- Release only our own lock (the guide deletes whoever holds it).
-- KEYS[1] lock; ARGV[1] token. Returns 1 released, 0 not ours (expired, or taken since).
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
