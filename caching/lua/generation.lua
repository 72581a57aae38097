-- A generation counter that never repeats a value it had. A counter that is missing
-- (evicted, flushed, restored from an older snapshot, never made) restarts at the
-- server's clock in microseconds, above anything it counted before; a bump is
-- max(current + 1, clock), so a bump after a restore also lands above the lost values.
-- KEYS[1] the counter; ARGV[1] 'bump', or 'init' (make it only if missing).
-- Returns the counter's value, as a string.
local current = tonumber(redis.call('GET', KEYS[1]))
if ARGV[1] == 'init' and current then
  return string.format('%d', current)
end
local now = redis.call('TIME')
local value = tonumber(now[1]) * 1000000 + tonumber(now[2])
if current and current + 1 > value then
  value = current + 1
end
local text = string.format('%d', value)
redis.call('SET', KEYS[1], text)
return text
