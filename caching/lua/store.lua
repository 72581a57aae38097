-- Store a committed value unless a newer version is cached, and end the entry's lease.
-- A fill (after a miss) passes its lease token and stores only while it still holds the
-- lease: an invalidation or a write-through since its database read voided it. A
-- write-through passes '' and voids any lease, so fills loaded before this write drop;
-- it stores only over the mark its writer left before committing (or a later entry):
-- with the mark gone (evicted), a late write-through of an older row could otherwise
-- land where the newer one was, so it stores nothing and the next read fills.
-- KEYS[1] entry hash, KEYS[2] lease (same hash tag: one slot)
-- ARGV[1] lease token or '', ARGV[2] ttl ms, ARGV[3] version, then field/value pairs
-- (d, g, t:<tag>...).
-- Returns 1 stored, 0 the lease was lost (or no mark), -1 a newer version is cached.
if ARGV[1] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[2])
local current = tonumber(redis.call('HGET', KEYS[1], 'v'))
if not current and ARGV[1] == '' then
  return 0
end
if current and current > tonumber(ARGV[3]) then
  return -1
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[3], unpack(ARGV, 4))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
