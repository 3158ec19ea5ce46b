import type { Redis } from 'ioredis';

/** One throttler hit as `@nestjs/throttler` asks a storage for it. */
export type ThrottlerHit = (key: string) => Promise<{ totalHits: number; isBlocked: boolean }>;

/**
 * Stand-in for `@nest-lab/throttler-storage-redis` (not installable here: its peers stop at Nest 11), modelled on
 * the call pattern of its predecessor `nestjs-throttler-storage-redis` 0.5.0: a Lua script of the same shape
 * (INCR, PTTL, PEXPIRE on a new window, GET + PTTL of a block key, SET of the block when over the limit) sent with
 * EVAL and its full source on every hit, keys `{<key>:<name>}:hits` / `:blocked`. Written for this benchmark, not
 * copied; label it a stand-in wherever its numbers are shown.
 */
const EVAL_STANDIN_SOURCE = `
local n = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left <= 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  left = tonumber(ARGV[2])
end
local blocked = redis.call('GET', KEYS[2])
local blockLeft = 0
if blocked then
  blockLeft = redis.call('PTTL', KEYS[2])
elseif n > tonumber(ARGV[3]) then
  redis.call('SET', KEYS[2], 1, 'PX', ARGV[4])
  blocked = '1'
  blockLeft = tonumber(ARGV[4])
end
if blocked and blockLeft <= 0 then
  redis.call('DEL', KEYS[2])
  redis.call('SET', KEYS[1], 1, 'PX', ARGV[2])
  n = 1
  left = tonumber(ARGV[2])
  blocked = false
end
return { n, left, blocked and 1 or 0, blockLeft }
`.trim();

export function evalStandIn(client: Redis, prefix: string, ttl: number, limit: number): ThrottlerHit {
  return async (key) => {
    const reply = (await client.call(
      'EVAL',
      EVAL_STANDIN_SOURCE,
      2,
      `${prefix}{${key}:default}:hits`,
      `${prefix}{${key}:default}:blocked`,
      'default',
      ttl,
      limit,
      ttl,
    )) as number[];
    return { totalHits: reply[0], isBlocked: reply[2] === 1 };
  };
}

/**
 * Stand-in for the storages built on MULTI instead of a script: one MULTI/EXEC (INCR, PEXPIRE … NX, PTTL of the
 * counter, PTTL of the block key) per hit, and a second round trip (SET of the block key) on the hit that goes over
 * the limit. Not atomic as a whole: two replicas can both see the first hit over the limit.
 */
export function multiStandIn(client: Redis, prefix: string, ttl: number, limit: number): ThrottlerHit {
  return async (key) => {
    const hits = `${prefix}{${key}:default}:hits`;
    const block = `${prefix}{${key}:default}:blocked`;
    const replies = (await client.multi().incr(hits).pexpire(hits, ttl, 'NX').pttl(hits).pttl(block).exec()) as Array<
      [Error | null, number]
    >;
    const totalHits = replies[0][1];
    const blockLeft = replies[3][1];
    if (blockLeft > 0) return { totalHits, isBlocked: true };
    if (totalHits > limit) {
      await client.set(block, '1', 'PX', ttl);
      return { totalHits, isBlocked: true };
    }
    return { totalHits, isBlocked: false };
  };
}
