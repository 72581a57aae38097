-- Append an event to a topic's stream and keep the stream near its bound without trimming
-- an entry some consumer group still needs (unread, or read and not acknowledged).
-- A plain XADD MAXLEN ~ drops the oldest entries whoever still needs them.
-- KEYS[1] stream, KEYS[2] handled marks (zset), KEYS[3] lost counter
-- ARGV[1] the event (JSON), ARGV[2] the bound (EVENTS_STREAM_MAXLEN)
-- Returns {entry id, entries some group needed that were trimmed now}.
local id = redis.call('XADD', KEYS[1], '*', 'event', ARGV[1])
local bound = tonumber(ARGV[2])
if redis.call('XLEN', KEYS[1]) <= bound then
  return {id, 0}
end

local function parts(entry)
  local ms, seq = string.match(entry, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq), ms
end
local function older(a, b)
  local a_ms, a_seq = parts(a)
  local b_ms, b_seq = parts(b)
  return a_ms < b_ms or (a_ms == b_ms and a_seq < b_seq)
end

-- The oldest entry some group still needs: its oldest pending entry, or the first it has
-- not read (the one after its last-delivered-id).
local needed = nil
for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local info = {}
  for i = 1, #group, 2 do
    info[group[i]] = group[i + 1]
  end
  local _, seq, ms = parts(info['last-delivered-id'])
  local first = ms .. '-' .. string.format('%d', seq + 1)
  if tonumber(info['pending']) > 0 then
    local oldest = redis.call('XPENDING', KEYS[1], info['name'])[2]
    if older(oldest, first) then
      first = oldest
    end
  end
  if needed == nil or older(first, needed) then
    needed = first
  end
end

local lost = 0
if needed == nil then
  -- No group reads this stream: nothing can be lost, keep the newest.
  redis.call('XTRIM', KEYS[1], 'MAXLEN', '~', bound, 'LIMIT', 0)
else
  -- Whole nodes of what every group has acknowledged go cheaply...
  redis.call('XTRIM', KEYS[1], 'MINID', '~', needed, 'LIMIT', 0)
  if redis.call('XLEN', KEYS[1]) > bound then
    -- ...and when that is not enough, the rest of it exactly, then, beyond the bound,
    -- entries a group still needs: lost, and counted.
    redis.call('XTRIM', KEYS[1], 'MINID', needed)
    if redis.call('XLEN', KEYS[1]) > bound then
      lost = redis.call('XTRIM', KEYS[1], 'MAXLEN', bound)
      redis.call('INCRBY', KEYS[3], lost)
    end
  end
end

-- A handled mark dedupes a second entry of the same event while the first is in the
-- stream; the marks of entries trimmed away go with them, so they stay bounded too.
local head = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
if head then
  local _, _, ms = parts(head[1])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ms)
end
return {id, lost}
