-- Extend only our own lock. KEYS[1] lock; ARGV[1] token, ARGV[2] ttl ms. Returns 1 or 0.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
