import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { LockService, RedisInstrumentation } from '@app/redis';
import {
  LogCapture,
  REDIS_URL,
  bootRedisModule,
  deleteKeysWithPrefix,
  eventually,
  uniqueKeyPrefix,
} from '@test/harness';

const keyPrefix = uniqueKeyPrefix('lock-wake-junk');
const MB = 1_048_576;

/**
 * What anyone who can PUBLISH on the app's Redis might send on the lock wake-up channels: arbitrary bytes, JSON of
 * every shape, strings that look almost like a wake-up, and 1–5 MB values.
 */
function junkMessages(token: string): Array<string | Buffer> {
  const small = fc.sample(
    fc.oneof(
      fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)),
      fc.json().map((json) => json),
      fc.jsonValue().map((value) => JSON.stringify(value) ?? 'undefined'),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.string({ maxLength: 20 }).map((rest) => `${token}:${rest}x`),
    ),
    { numRuns: 300, seed: 13_019 },
  );
  return [
    ...small,
    'null',
    '{"k":5}',
    `${token}:-1`,
    `${token}:NaN`,
    `${token}:1e309`,
    `${token}:99999999999999999999`,
    `${token}::`,
    'x'.repeat(MB),
    Buffer.alloc(3 * MB, 0xff),
    `${token}:${'9'.repeat(5 * MB)}`,
  ];
}

describe.each([
  ['single node', {}],
  ['Redlock', { nodes: [REDIS_URL] }],
])('LockService (%s) › wake-up channels under hostile PUBLISH', (mode, lockOptions) => {
  let redis: Redis;
  let app: INestApplicationContext | undefined;

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  afterAll(async () => {
    await deleteKeysWithPrefix(redis, keyPrefix);
    await redis.quit();
  });

  it('drops junk on its own and the shared wake-up channel (logged rate-limited), then still hands the lock over', async () => {
    const logs = new LogCapture();
    app = await bootRedisModule({ url: REDIS_URL, keyPrefix, lock: lockOptions }, logs.logger);
    const locks = app.get(LockService);
    let counted = 0;
    app.get(RedisInstrumentation).on('input.rejected', ({ source }) => {
      if (source === 'lock.wakeup') counted++;
    });
    const resource = `junk:${mode}`;
    const holder = await locks.acquire(resource, { ttl: 30_000 });
    const instance = holder.token.split('.')[0];
    const ownChannel = `${keyPrefix}lock:wake:${instance}`;
    const sharedChannel = `${keyPrefix}lock:wake`;
    // Fallback polls every 60 s: within this test the waiter can only get the lock through a wake-up.
    const waiting = locks.acquire(resource, { waitTimeout: 30_000, retryDelay: 60_000, retryJitter: 0 });
    // Observed below; never left as an unhandled rejection if an assertion fails first.
    waiting.catch(() => undefined);
    const subscribers = async (channel: string) => Number(((await redis.pubsub('NUMSUB', channel)) as unknown[])[1]);
    expect(
      await eventually(
        async () => (await subscribers(ownChannel)) > 0 && (await subscribers(sharedChannel)) > 0,
        20_000,
      ),
    ).toBe(true);

    const started = Date.now();
    const junk = junkMessages(holder.token);
    for (const channel of [ownChannel, sharedChannel]) {
      const pipeline = redis.pipeline();
      for (const message of junk) pipeline.publish(channel, message);
      await pipeline.exec();
    }
    // A round trip on the app's own connection: every junk message was delivered before the hand-over below.
    await redis.ping();
    await holder.release();
    const lock = await waiting;

    expect(lock.fencingToken).toBeGreaterThan(holder.fencingToken);
    expect(lock.signal.aborted).toBe(false);
    await lock.release();
    // Every dropped message is counted (nest_redis_untrusted_input_rejected_total{source="lock.wakeup"}).
    // The 300 sampled messages and the large ones are none of them wake-ups (a few near-misses may parse).
    expect(counted).toBeGreaterThanOrEqual(303);
    const warnings = logs.lines.filter((line) => line.includes('malformed lock wake-up'));
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    // One line per 5 s at most, however many junk messages came.
    expect(warnings.length).toBeLessThanOrEqual(Math.ceil((Date.now() - started) / 5_000) + 1);
    expect(logs.lines.some((line) => line.startsWith('error'))).toBe(false);
    // No junk text reaches the log: only the channel and the size.
    expect(logs.text).not.toContain('x'.repeat(100));
  }, 60_000);
});
