-- Delete a group's consumers that hold nothing and have been idle at least ARGV[2] ms
-- (named host-pid, each restart leaves one behind). Checked and deleted in one step:
-- deleting a consumer deletes its pending entries, and one may read between a check and
-- a delete made apart. A live consumer deleted this way is recreated by its next read.
-- KEYS[1] stream; ARGV[1] group, ARGV[2] idle ms, ARGV[3] only this consumer ('' for any)
-- Returns the names deleted.
local forgotten = {}
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local info = {}
  for i = 1, #consumer, 2 do
    info[consumer[i]] = consumer[i + 1]
  end
  if info['pending'] == 0 and info['idle'] >= tonumber(ARGV[2])
      and (ARGV[3] == '' or info['name'] == ARGV[3]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
    forgotten[#forgotten + 1] = info['name']
  end
end
return forgotten
