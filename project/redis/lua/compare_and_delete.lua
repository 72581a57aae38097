-- Delete a key only if it still holds our token: give up a cache lease (the loader found
-- nothing or failed, so waiting readers stop waiting), or release a lock (a plain DEL
-- would remove whoever holds it now).
-- KEYS[1] lease or lock; ARGV[1] token. Returns 1 deleted, 0 not ours (expired, or taken).
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
