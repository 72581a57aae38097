-- Keep a live session listed in its owner's index, and the index alive at least as long
-- as that session: add the entry if it is missing (the index expired or was evicted),
-- and only ever lengthen the index's TTL (a shorter session must not shorten it).
-- KEYS[1] the owner's index hash; ARGV[1] the session's field, ARGV[2] its entry (JSON),
-- ARGV[3] the session's TTL in ms, ARGV[4] '1' to replace the entry (a login), else '0'.
-- Returns 1 if the entry was added or replaced, 0 if it was there.
local added
if ARGV[4] == '1' then
  added = redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  added = 1
else
  added = redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < tonumber(ARGV[3]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return added
