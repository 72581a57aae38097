-- Give up a lease this filler still holds (the loader found nothing or failed), so that
-- waiting readers stop waiting. KEYS[1] lease; ARGV[1] token. Returns 1 released, 0 not ours.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
