-- Claim the pending counts for a flush, atomically: counting goes on into a fresh hash.
-- A claim left by a flusher that died is returned again, to be applied (exactly once:
-- its _id, given with the batch's first count, is recorded in the database in the same
-- transaction as the counts).
-- KEYS[1] pending, KEYS[2] claim; ARGV[1] an id for a batch that has none (counted
-- before batches carried one). Returns HGETALL claim.
if redis.call('EXISTS', KEYS[2]) == 0 then
  if redis.call('EXISTS', KEYS[1]) == 0 then
    return {}
  end
  redis.call('RENAME', KEYS[1], KEYS[2])
  redis.call('HSETNX', KEYS[2], '_id', ARGV[1])
end
return redis.call('HGETALL', KEYS[2])
