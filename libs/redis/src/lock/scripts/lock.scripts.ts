import { LuaScript } from '../../connection/lua-script.js';

/**
 * The lock's Lua scripts. Each runs atomically on one Redis node and only touches KEYS (one hash tag per
 * resource), so single node, Cluster and every Redlock node run the same code.
 *
 * Keys: KEYS[1] lock (value: owner token), KEYS[2] fence (INCR counter, never expires), KEYS[3] queue (LIST of
 * waiting tokens, FIFO), KEYS[4] leases (HASH token → "leaseDeadline|ttl", deadline in the server's ms; a waiter
 * renews its lease on every attempt, so a crashed waiter drops out of the queue when its lease ends).
 *
 * Wake-ups are published on the waiter's own channel: `<wake channel>:<instance>`, the instance being the part of
 * its token before the first `.` (each LockService draws one), so only the process that waits hears them. A token
 * without that part (written by an older version) is woken on the shared wake channel.
 */

/** `now` in ms from the server's clock, so leases never depend on client clocks. */
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** The lease deadline of a queued token (0 when it has none). */
const DEADLINE = `local function deadline(token)
  local lease = redis.call('HGET', KEYS[4], token)
  return lease and tonumber(string.match(lease, '^(%d+)')) or 0
end`;

/** The channel that wakes `token`'s process (ARGV[2] is the shared wake channel). */
const CHANNEL = `local function channel(token)
  local instance = string.match(token, '^(%x+)%.')
  return instance and (ARGV[2] .. ':' .. instance) or ARGV[2]
end`;

/**
 * Acquire (single node). ARGV: token, ttl ms, wait (1 = join the queue when busy), lease ms.
 * Grants when the lock is ours (handed over to us by a release whose message we did not act on), or free with
 * nobody alive ahead of us in the queue: no barging past waiters. On grant, INCR the fence counter in the same
 * script: the fencing token. Returns {1, fencingToken}, or {0, current fence value} (lets a waiter tell a hand-over
 * that happened after this reply from a stale one).
 */
export const ACQUIRE = new LuaScript(
  'lock-acquire',
  `if redis.call('EXISTS', KEYS[3]) == 0 and redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, redis.call('INCR', KEYS[2])}
end
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {1, redis.call('INCR', KEYS[2])}
end
${NOW}
${DEADLINE}
if not holder then
  local head = redis.call('LINDEX', KEYS[3], 0)
  while head and head ~= ARGV[1] and deadline(head) <= now do
    redis.call('LPOP', KEYS[3])
    redis.call('HDEL', KEYS[4], head)
    head = redis.call('LINDEX', KEYS[3], 0)
  end
  if not head or head == ARGV[1] then
    if head then
      redis.call('LPOP', KEYS[3])
      redis.call('HDEL', KEYS[4], head)
    end
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return {1, redis.call('INCR', KEYS[2])}
  end
end
if ARGV[3] == '1' then
  local lease = tonumber(ARGV[4])
  if redis.call('HSET', KEYS[4], ARGV[1], (now + lease) .. '|' .. ARGV[2]) == 1 then
    redis.call('RPUSH', KEYS[3], ARGV[1])
  end
  redis.call('PEXPIRE', KEYS[3], lease * 2)
  redis.call('PEXPIRE', KEYS[4], lease * 2)
end
return {0, tonumber(redis.call('GET', KEYS[2]) or '0')}`,
);

/**
 * Release (single node). ARGV: token, wake channel, leave (1 = also drop the token from the queue: a waiter giving
 * up). Only the owner's token releases. With live waiters, the lock is handed straight to the first one: set under
 * its token with its ttl, a fencing token drawn, and "token:fence" published so it can start without another round
 * trip (on the waiter's channel). Otherwise the lock is deleted. Returns 1 released (or handed over), 0 not the owner.
 */
export const RELEASE = new LuaScript(
  'lock-release',
  `if ARGV[3] == '1' then
  redis.call('LREM', KEYS[3], 1, ARGV[1])
  redis.call('HDEL', KEYS[4], ARGV[1])
end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local head = redis.call('LPOP', KEYS[3])
if head then
  ${NOW}
  ${CHANNEL}
  while head do
    local lease = redis.call('HGET', KEYS[4], head)
    redis.call('HDEL', KEYS[4], head)
    local until_, ttl = string.match(lease or '', '^(%d+)|(%d+)$')
    if until_ and tonumber(until_) > now then
      redis.call('SET', KEYS[1], head, 'PX', ttl)
      redis.call('PUBLISH', channel(head), head .. ':' .. redis.call('INCR', KEYS[2]))
      return 1
    end
    head = redis.call('LPOP', KEYS[3])
  end
end
redis.call('DEL', KEYS[1])
return 1`,
);

/** Extend (every mode). KEYS[1] lock; ARGV: token, ttl ms. Returns 1 extended, 0 not the owner. */
export const EXTEND = new LuaScript(
  'lock-extend',
  `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`,
);

/**
 * Acquire on one Redlock node. KEYS as single node. ARGV: token, ttl ms, wait (1 = join the node's waiter queue when
 * busy), lease ms, retry (1 = the token has attempted before, so it may be queued here or hold a reservation a
 * release made for it). No hand-over (a quorum cannot be handed over node by node): the queue only decides whom a
 * release wakes. A first attempt is a bare `SET NX` (a fresh token is neither queued nor reserved for), then `INCR`;
 * a retry reads the holder first, since it is usually answering a wake-up that reserved the node for it. Returns
 * {1, this node's fence value} or {0, 0}.
 */
export const NODE_ACQUIRE = new LuaScript(
  'lock-node-acquire',
  `local retry = ARGV[5] == '1'
local granted
if retry then
  local holder = redis.call('GET', KEYS[1])
  granted = (not holder or holder == ARGV[1]) and redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  granted = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
end
if granted then
  if retry and redis.call('HDEL', KEYS[4], ARGV[1]) == 1 then redis.call('LREM', KEYS[3], 1, ARGV[1]) end
  return {1, redis.call('INCR', KEYS[2])}
end
if ARGV[3] == '1' then
  ${NOW}
  local lease = tonumber(ARGV[4])
  if redis.call('HSET', KEYS[4], ARGV[1], now + lease) == 1 then
    redis.call('RPUSH', KEYS[3], ARGV[1])
  end
  redis.call('PEXPIRE', KEYS[3], lease * 2)
  redis.call('PEXPIRE', KEYS[4], lease * 2)
end
return {0, 0}`,
);

/**
 * Release on one Redlock node. KEYS as single node. ARGV: token, wake channel, leave (1 = also leave the waiter
 * queue), claim window ms, wake (1 = a real release; 0 = a failed attempt giving back a partial grant, which only
 * deletes: the majority's holder is still working, and waking waiters would only cascade refusals). Only the owner's token releases. With a live waiter queued, the node is reserved for the
 * first one (for the claim window) and its token published, so that one waiter retries (not all of them) and the
 * releasing process cannot barge back in; nodes usually agree on the first waiter, as waiters join every node at
 * once. Returns 0 not the owner, 1 released, 2 released and reserved for a woken waiter.
 */
export const NODE_RELEASE = new LuaScript(
  'lock-node-release',
  `if ARGV[3] == '1' and redis.call('HDEL', KEYS[4], ARGV[1]) == 1 then
  redis.call('LREM', KEYS[3], 1, ARGV[1])
end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local head = ARGV[5] == '1' and redis.call('LINDEX', KEYS[3], 0)
if head then
  ${NOW}
  ${DEADLINE}
  ${CHANNEL}
  while head and deadline(head) <= now do
    redis.call('LPOP', KEYS[3])
    redis.call('HDEL', KEYS[4], head)
    head = redis.call('LINDEX', KEYS[3], 0)
  end
  if head and head ~= ARGV[1] then
    redis.call('SET', KEYS[1], head, 'PX', ARGV[4])
    redis.call('PUBLISH', channel(head), head)
    return 2
  end
end
redis.call('DEL', KEYS[1])
return 1`,
);

/** Leave one node's waiter queue (KEYS[3] queue, KEYS[4] leases; ARGV[1] token), without touching the lock. */
export const NODE_LEAVE = new LuaScript(
  'lock-node-leave',
  `if redis.call('HDEL', KEYS[4], ARGV[1]) == 1 then redis.call('LREM', KEYS[3], 1, ARGV[1]) end
return 1`,
);

/**
 * Raise one Redlock node's fence counter to at least ARGV[1] (KEYS[1] fence). After a quorum grant the token is
 * the highest counter among the granting nodes; raising the others keeps every later quorum's token above it.
 */
export const RAISE_FENCE = new LuaScript(
  'lock-raise-fence',
  `local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 1`,
);
