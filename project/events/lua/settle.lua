-- Finish with a stream entry, atomically: acknowledge it, drop its progress, and either
-- mark its event handled (a second entry of the same event is then skipped) or move it to
-- the dead letters with the reason.
-- KEYS[1] stream, KEYS[2] progress, KEYS[3] handled marks, KEYS[4] dead letters
-- ARGV[1] group, ARGV[2] entry id, ARGV[3] the entry's field, ARGV[4] the event's mark
-- ('' for none), ARGV[5] dead-letter reason ('' when handled), ARGV[6] the raw event,
-- ARGV[7] consumer, ARGV[8] dead letters kept (approximately)
if ARGV[5] ~= '' then
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[8], '*', 'event', ARGV[6],
    'source_id', ARGV[2], 'group', ARGV[1], 'consumer', ARGV[7], 'reason', ARGV[5])
elseif ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[3], string.match(ARGV[2], '^(%d+)-'), ARGV[4])
end
redis.call('HDEL', KEYS[2], ARGV[3])
return redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
