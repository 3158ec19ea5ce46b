/**
 * Records one booking event's effects exactly once, all or nothing: the event's marker (a hash field keyed by
 * booking id) and the effects (notification, per-venue counters, totals) are written by one script, so a
 * redelivered event, or a crash between "handled" and "marked", cannot apply them twice or lose them.
 *
 * Redis does not roll a script back when it fails halfway: the writes before the failing command stay. So the
 * script checks every argument first and only then writes, and every write after the checks is one that cannot
 * fail (HSET and HINCRBY with an integer already checked). A bad argument answers an `ERR invalid …` error and
 * leaves nothing behind: no marker that would make the retry count a duplicate, no counter moved.
 *
 * KEYS[1] marker hash (notifications or cancellations), KEYS[2] the venue's counters hash, KEYS[3] totals hash
 * ARGV[1] booking id, ARGV[2] the record to store (JSON), ARGV[3] counter field (`bookings` or `cancellations`),
 * ARGV[4] seats delta (a non-zero integer)
 * Returns 1 when applied, 0 when the event had been recorded before.
 */
export const RECORD_ONCE_SCRIPT = `
local id, record, counter = ARGV[1], ARGV[2], ARGV[3]
local seats = tonumber(ARGV[4])
if id == nil or id == '' then return redis.error_reply('ERR invalid booking id: empty') end
if record == nil or record == '' then return redis.error_reply('ERR invalid record: empty') end
if counter ~= 'bookings' and counter ~= 'cancellations' then
  return redis.error_reply('ERR invalid counter: expected bookings or cancellations')
end
if seats == nil or seats ~= math.floor(seats) or seats == 0 or math.abs(seats) > 1000000 then
  return redis.error_reply('ERR invalid seats delta: expected a non-zero integer')
end
if redis.call('HEXISTS', KEYS[1], id) == 1 then
  redis.call('HINCRBY', KEYS[3], 'duplicatesIgnored', 1)
  return 0
end
redis.call('HSET', KEYS[1], id, record)
redis.call('HINCRBY', KEYS[2], counter, 1)
redis.call('HINCRBY', KEYS[2], 'seatsBooked', seats)
redis.call('HINCRBY', KEYS[3], 'eventsHandled', 1)
return 1
`;
