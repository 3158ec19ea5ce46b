import { LuaScript } from '../connection/lua-script.js';

/**
 * The semaphore's Lua scripts. Each runs atomically and only touches the keys of one semaphore, which share the
 * `{name}` hash tag (one slot on Cluster).
 *
 * Keys: KEYS[1] holders (ZSET token → expiry in the server's ms: a crashed holder's permit frees itself when its
 * score passes), KEYS[2] fence (INCR counter, never expires), KEYS[3] queue (LIST of waiting tokens, FIFO), KEYS[4]
 * leases (HASH token → "leaseDeadline|ttl": a waiter renews its lease on every attempt, so a crashed waiter drops
 * out), KEYS[5] fences (HASH holder token → its fencing token).
 *
 * Wake-ups are published on `<wake channel>:<instance>`, the instance being the part of the token before the first
 * `.`, so only the process that waits hears them.
 */

/** `now` in ms from the server's clock, so expiries never depend on client clocks. */
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** Drops holders whose ttl passed (crashed or stalled processes): their permits are free again. */
const PURGE = `local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
if #expired > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  for _, holder in ipairs(expired) do redis.call('HDEL', KEYS[5], holder) end
end`;

/** Keeps the holders' keys alive exactly as long as their longest-lived holder (no key outlives its use). */
const KEEP = `local function keep()
  local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  if top[2] then
    local ms = math.floor(tonumber(top[2]) - now) + 1000
    redis.call('PEXPIRE', KEYS[1], ms)
    redis.call('PEXPIRE', KEYS[5], ms)
  end
end`;

/** The lease deadline of a queued token (0 when it has none: it left or was handed a permit). */
const DEADLINE = `local function deadline(token)
  local lease = redis.call('HGET', KEYS[4], token)
  return lease and tonumber(string.match(lease, '^(%d+)')) or 0
end`;

/**
 * Acquire. ARGV: token, permits, ttl ms, wait (1 = join the queue when no permit is free), lease ms.
 * A token already holding a permit (handed over by a release) renews it and gets its fencing token back. Otherwise a
 * permit is granted when one is free and fewer live waiters than free permits are queued ahead of the token: no
 * barging past waiters. Dead waiters met on the way are removed. Returns {1, fencingToken} or {0, fence value}.
 */
export const SEMAPHORE_ACQUIRE = new LuaScript(
  'semaphore-acquire',
  `${NOW}
${PURGE}
${KEEP}
${DEADLINE}
local token = ARGV[1]
local ttl = tonumber(ARGV[3])
local function grant(fence)
  redis.call('ZADD', KEYS[1], now + ttl, token)
  if redis.call('HDEL', KEYS[4], token) == 1 then redis.call('LREM', KEYS[3], 1, token) end
  keep()
  return {1, fence}
end
local handed = redis.call('HGET', KEYS[5], token)
if handed and redis.call('ZSCORE', KEYS[1], token) then return grant(tonumber(handed)) end
local free = tonumber(ARGV[2]) - redis.call('ZCARD', KEYS[1])
if free > 0 then
  local ahead, index = 0, 0
  while ahead < free do
    local waiter = redis.call('LINDEX', KEYS[3], index)
    if not waiter or waiter == token then break end
    if deadline(waiter) > now then
      ahead = ahead + 1
      index = index + 1
    else
      redis.call('LREM', KEYS[3], 1, waiter)
      redis.call('HDEL', KEYS[4], waiter)
    end
  end
  if ahead < free then
    local fence = redis.call('INCR', KEYS[2])
    redis.call('HSET', KEYS[5], token, fence)
    return grant(fence)
  end
end
if ARGV[4] == '1' then
  local lease = tonumber(ARGV[5])
  if redis.call('HSET', KEYS[4], token, (now + lease) .. '|' .. ARGV[3]) == 1 then
    redis.call('RPUSH', KEYS[3], token)
  end
  redis.call('PEXPIRE', KEYS[3], lease * 2)
  redis.call('PEXPIRE', KEYS[4], lease * 2)
end
return {0, tonumber(redis.call('GET', KEYS[2]) or '0')}`,
);

/**
 * Release. ARGV: token, permits, leave (1 = also leave the queue: a waiter giving up), wake channel.
 * Frees the token's permit if it still holds one, then hands every free permit to the first live waiters in FIFO
 * order: each is added to the holders under its own ttl with a fresh fencing token, and "token:fence" is published
 * on its process' channel. Returns 1 when the token held a live permit, 0 otherwise.
 */
export const SEMAPHORE_RELEASE = new LuaScript(
  'semaphore-release',
  `${NOW}
${KEEP}
local token = ARGV[1]
if ARGV[3] == '1' then
  redis.call('LREM', KEYS[3], 1, token)
  redis.call('HDEL', KEYS[4], token)
end
local score = redis.call('ZSCORE', KEYS[1], token)
local owned = score and tonumber(score) > now and 1 or 0
redis.call('ZREM', KEYS[1], token)
redis.call('HDEL', KEYS[5], token)
${PURGE}
local free = tonumber(ARGV[2]) - redis.call('ZCARD', KEYS[1])
while free > 0 do
  local head = redis.call('LPOP', KEYS[3])
  if not head then break end
  local lease = redis.call('HGET', KEYS[4], head)
  redis.call('HDEL', KEYS[4], head)
  local until_, ttl = string.match(lease or '', '^(%d+)|(%d+)$')
  if until_ and tonumber(until_) > now then
    local fence = redis.call('INCR', KEYS[2])
    redis.call('ZADD', KEYS[1], now + tonumber(ttl), head)
    redis.call('HSET', KEYS[5], head, fence)
    local instance = string.match(head, '^(%x+)%.')
    redis.call('PUBLISH', instance and (ARGV[4] .. ':' .. instance) or ARGV[4], head .. ':' .. fence)
    free = free - 1
  end
end
keep()
return owned`,
);

/**
 * Extend. KEYS as above; ARGV: token, ttl ms. Renews the token's permit if it is still live (an expired one is
 * gone even if no one purged it yet: its holder already counts it as lost). Returns 1 extended, 0 not a holder.
 */
export const SEMAPHORE_EXTEND = new LuaScript(
  'semaphore-extend',
  `${NOW}
${KEEP}
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) > now then
  redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
  keep()
  return 1
end
return 0`,
);
