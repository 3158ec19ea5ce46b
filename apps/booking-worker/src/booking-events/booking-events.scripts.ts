/**
 * Records one booking event's effects exactly once, atomically: the event's marker (a hash field keyed by booking
 * id) and the effects (notification, per-venue counters, totals) are written by one script, so a redelivered
 * event, or a crash between "handled" and "marked", cannot apply them twice or lose them.
 *
 * KEYS[1] marker hash (notifications or cancellations), KEYS[2] the venue's counters hash, KEYS[3] totals hash
 * ARGV[1] booking id, ARGV[2] the record to store (JSON), ARGV[3] counter field, ARGV[4] seats delta
 * Returns 1 when applied, 0 when the event had been recorded before.
 */
export const RECORD_ONCE_SCRIPT = `
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then
  redis.call('HINCRBY', KEYS[3], 'duplicatesIgnored', 1)
  return 0
end
redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
redis.call('HINCRBY', KEYS[2], 'seatsBooked', tonumber(ARGV[4]))
redis.call('HINCRBY', KEYS[3], 'eventsHandled', 1)
return 1
`;
