-- A delivery failed: remember which handlers succeeded (a redelivery runs only the others)
-- and give up the claim, if it is still ours, so the next delivery need not wait for it.
-- KEYS[1] progress; ARGV[1] the entry's field, ARGV[2] consumer, ARGV[3] handlers that
-- succeeded, comma-separated
local saved = redis.call('HGET', KEYS[1], ARGV[1])
local progress = saved and cjson.decode(saved) or {done = ''}
local done = {}
for name in string.gmatch(progress.done .. ',' .. ARGV[3], '[^,]+') do
  done[name] = true
end
local names = {}
for name in pairs(done) do
  names[#names + 1] = name
end
table.sort(names)
progress.done = table.concat(names, ',')
if progress.owner == ARGV[2] then
  progress.owner = nil
  progress['until'] = nil
end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(progress))
