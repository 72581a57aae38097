-- Move a user's read marker forward to ARGV[1] (a stream id), never back.
-- KEYS[1] read marker; ARGV[1] id, ARGV[2] TTL in seconds
-- Returns the marker as it stands.
local function parts(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local current = redis.call('GET', KEYS[1])
if current then
  local cms, cseq = parts(current)
  local nms, nseq = parts(ARGV[1])
  if nms < cms or (nms == cms and nseq <= cseq) then
    return current
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return ARGV[1]
