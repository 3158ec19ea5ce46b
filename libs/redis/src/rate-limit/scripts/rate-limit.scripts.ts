// Imported from the lock folder until the shared script runner moves (see the lead's refactor).
import { LuaScript } from '../../connection/lua-script.js';

/**
 * One hit of `@nestjs/throttler`, with the semantics of its in-memory storage: hits are counted until one goes over
 * `limit`; with `blockDuration` > 0 that hit starts a block during which hits are refused and not counted, and the
 * first hit after the block starts a fresh count; with `blockDuration` <= 0 hits over the limit are refused and not
 * counted until the window ends. The window is fixed, starting at the first hit (the in-memory storage's
 * `timeToExpire`).
 *
 * KEYS: hits counter, block marker (same hash tag). ARGV: ttl ms, limit, blockDuration ms.
 * Returns { totalHits, ms until the window ends, blocked 0|1, ms until the block ends }.
 */
export const THROTTLER_HIT = new LuaScript(
  'throttler-hit',
  `
local ttl = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local blockDuration = tonumber(ARGV[3])
local blockLeft = redis.call('PTTL', KEYS[2])
if blockLeft > 0 then
  return {tonumber(redis.call('GET', KEYS[1]) or '0'), redis.call('PTTL', KEYS[1]), 1, blockLeft}
end
if blockDuration <= 0 then
  local hits = tonumber(redis.call('GET', KEYS[1]) or '0')
  if hits >= limit then
    local left = redis.call('PTTL', KEYS[1])
    return {hits + 1, left, 1, left}
  end
end
local hits = redis.call('INCR', KEYS[1])
local left = ttl
if hits == 1 then
  redis.call('PEXPIRE', KEYS[1], ttl)
else
  left = redis.call('PTTL', KEYS[1])
  if left < 0 then
    redis.call('PEXPIRE', KEYS[1], ttl)
    left = ttl
  end
end
if hits > limit then
  if hits > limit + 1 then
    -- Over the limit with no block: the block of this window ended, so this hit starts a fresh count.
    redis.call('SET', KEYS[1], 1, 'PX', ttl)
    return {1, ttl, 0, 0}
  end
  redis.call('SET', KEYS[2], 1, 'PX', blockDuration)
  return {hits, left, 1, blockDuration}
end
return {hits, left, 0, 0}
`,
);

/**
 * Fixed window starting at a key's first call. Refused calls are not counted.
 * KEYS: counter. ARGV: limit, window ms, cost. Returns { allowed 0|1, remaining, ms until the window ends }.
 */
export const FIXED_WINDOW = new LuaScript(
  'rate-limit-fixed-window',
  `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local left = redis.call('PTTL', KEYS[1])
local used = 0
if left < 0 then
  left = window
else
  used = tonumber(redis.call('GET', KEYS[1]) or '0')
end
if used + cost > limit then
  return {0, limit - used, left}
end
used = redis.call('INCRBY', KEYS[1], cost)
if used == cost then redis.call('PEXPIRE', KEYS[1], window) end
return {1, limit - used, left}
`,
);

/**
 * Sliding window, two-window approximation: windows aligned on Redis' clock (so every replica agrees), the estimate
 * is previous count × the share of the previous window still inside the sliding window + current count. One hash
 * per key: w (window index), c (current count), p (previous count). Refused calls are not counted.
 * KEYS: hash. ARGV: limit, window ms, cost.
 * Returns { allowed 0|1, remaining, ms until retry, ms until the count is back to zero }.
 */
export const SLIDING_WINDOW = new LuaScript(
  'rate-limit-sliding-window',
  `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local index = math.floor(now / window)
local state = redis.call('HMGET', KEYS[1], 'w', 'c', 'p')
local w = tonumber(state[1]) or index
local c = tonumber(state[2]) or 0
local p = tonumber(state[3]) or 0
if w ~= index then
  if w == index - 1 then p = c else p = 0 end
  c = 0
end
local rest = (index + 1) * window - now
local used = p * rest / window + c
local reset = 0
if c > 0 then reset = rest + window elseif p > 0 then reset = rest end
if used + cost > limit then
  local wait
  if limit - c - cost >= 0 then
    wait = rest - (limit - c - cost) * window / p
  else
    wait = rest + window - (limit - cost) * window / c
  end
  return {0, math.max(0, math.floor(limit - used)), math.max(1, math.ceil(wait)), reset}
end
c = c + cost
redis.call('HSET', KEYS[1], 'w', index, 'c', c, 'p', p)
redis.call('PEXPIRE', KEYS[1], window * 2)
return {1, math.max(0, math.floor(limit - used - cost)), 0, rest + window}
`,
);

/**
 * Token bucket computed with GCRA: one "theoretical arrival time" (TAT) per key, in ms on Redis' clock. A call of
 * `cost` units is allowed when TAT + cost × interval − burst × interval <= now. Refused calls change nothing.
 * KEYS: TAT. ARGV: burst, emission interval ms (period / rate), cost.
 * Returns { allowed 0|1, remaining, ms until retry, ms until the bucket is full }.
 */
export const TOKEN_BUCKET = new LuaScript(
  'rate-limit-token-bucket',
  `
local burst = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local tolerance = burst * interval
local nextTat = tat + cost * interval
local allowAt = nextTat - tolerance
if allowAt > now then
  local remaining = math.floor((now + tolerance - tat) / interval + 1e-6)
  return {0, math.max(0, remaining), math.max(1, math.ceil(allowAt - now)), math.ceil(tat - now)}
end
redis.call('SET', KEYS[1], string.format('%.3f', nextTat), 'PX', math.max(1, math.ceil(nextTat - now)))
return {1, math.max(0, math.floor((now + tolerance - nextTat) / interval + 1e-6)), 0, math.ceil(nextTat - now)}
`,
);
