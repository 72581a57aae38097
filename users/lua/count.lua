-- Count a profile view or a login (or nothing), and return what is waiting to be flushed
-- for the user: {pending views, pending logins, claimed views, claimed logins}.
-- The pending hash gets its batch id (_id) with its first count, not when a flush claims
-- it: a batch that Redis brings back after it was flushed (a restart from an older
-- snapshot, a failover) carries the id the database already holds, and is not applied
-- twice.
-- KEYS[1] pending hash, KEYS[2] claim hash (one slot); ARGV[1] field to bump or "",
-- ARGV[2] the user's views field, ARGV[3] the user's logins field, ARGV[4] a new batch id.
if ARGV[1] ~= '' then
  redis.call('HSETNX', KEYS[1], '_id', ARGV[4])
  redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
end
local pending = redis.call('HMGET', KEYS[1], ARGV[2], ARGV[3])
local claimed = redis.call('HMGET', KEYS[2], ARGV[2], ARGV[3])
return {pending[1] or 0, pending[2] or 0, claimed[1] or 0, claimed[2] or 0}
