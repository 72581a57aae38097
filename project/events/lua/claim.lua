-- Claim one delivery of a stream entry, atomically: while a claim holds, no other consumer
-- runs the entry's handlers (XAUTOCLAIM hands an entry to a second consumer while a slow
-- first one may still be running it).
-- KEYS[1] progress (hash: field per pending entry), KEYS[2] handled marks (zset)
-- ARGV[1] the entry's field, ARGV[2] the event's mark ('' when the entry is unreadable),
-- ARGV[3] consumer, ARGV[4] lease in ms
-- Returns {'handled'} (another entry of this event was handled), {'busy', holder}, or
-- {'claimed', handlers that already succeeded on an earlier delivery, comma-separated}.
if ARGV[2] ~= '' and redis.call('ZSCORE', KEYS[2], ARGV[2]) then
  return {'handled'}
end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local saved = redis.call('HGET', KEYS[1], ARGV[1])
local progress = saved and cjson.decode(saved) or {done = ''}
if progress.owner and progress.owner ~= ARGV[3] and progress['until'] > now then
  return {'busy', progress.owner}
end
progress.owner = ARGV[3]
progress['until'] = now + tonumber(ARGV[4])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(progress))
return {'claimed', progress.done}
