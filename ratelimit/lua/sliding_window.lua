-- Sliding-window log on a sorted set: trim, count, add, expire, in one atomic step, on the
-- server's clock (app servers with skewed clocks share one window).
-- KEYS[1] the window's sorted set.
-- ARGV[1] limit, ARGV[2] window µs, ARGV[3] a unique member id, ARGV[4] "1" to record an
-- admitted request, "0" to only look.
-- Returns {admitted 1|0, remaining, µs until the oldest entry leaves the window}.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local admitted = 0
if count < limit then
  admitted = 1
  if ARGV[4] == '1' then
    -- The member must be unique: two requests in one µs are two requests.
    redis.call('ZADD', KEYS[1], now, ARGV[3])
    redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
    count = count + 1
  end
end
local reset = 0
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if oldest[2] then
  reset = tonumber(oldest[2]) + window - now
end
local remaining = limit - count
if remaining < 0 then
  remaining = 0
end
return {admitted, remaining, reset}
