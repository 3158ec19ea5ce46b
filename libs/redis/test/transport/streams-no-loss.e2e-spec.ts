import { afterAll, describe, expect, it } from '@jest/globals';
import { lastValueFrom } from 'rxjs';
import { RedisTransportClient, RedisTransportServer } from '@app/redis/transport';
import { REDIS_URL, eventually, uniqueKeyPrefix, useRedisClient } from '@test/harness';
import { type WorkerProcess, spawnWorker, stopWorker } from './fixtures/spawn-worker.js';

const EVENTS = 10_000;
const keyPrefix = uniqueKeyPrefix('transport-no-loss');
const group = 'no-loss';
const pattern = 'booking.created';
const redis = useRedisClient({ deleteKeysUnder: keyPrefix });

describe('RedisTransportServer › streams mode › no loss across a crashed consumer process', () => {
  const workers: WorkerProcess[] = [];

  afterAll(async () => {
    await Promise.all(workers.map((w) => stopWorker(w)));
  });

  it(`handles all ${EVENTS.toLocaleString('en-US')} events at least once with 2 consumer processes, one SIGKILLed mid-run and restarted`, async () => {
    const started = Date.now();
    const args = (consumer: string) => [REDIS_URL, keyPrefix, group, consumer, pattern];
    workers.push(await spawnWorker(args('worker-a')), await spawnWorker(args('worker-b')));

    const client = new RedisTransportClient({ url: REDIS_URL, keyPrefix, mode: 'streams' });
    const handled = () => redis.scard(`${keyPrefix}handled`);
    let killedAt = -1;
    try {
      for (let seq = 0; seq < EVENTS; seq += 250) {
        await Promise.all(
          Array.from({ length: Math.min(250, EVENTS - seq) }, (_, i) =>
            lastValueFrom(client.emit(pattern, { seq: seq + i })),
          ),
        );
        if (killedAt < 0 && seq >= 3_000) {
          // Crash worker A while it has entries in flight, then bring a fresh process back.
          killedAt = await handled();
          workers[0].child.kill('SIGKILL');
          await workers[0].exited;
          workers.push(await spawnWorker(args('worker-a2')));
        }
      }
    } finally {
      await client.close();
    }

    const stream = new RedisTransportServer({
      url: REDIS_URL,
      keyPrefix,
      mode: 'streams',
      streams: { group },
    }).streamKey(pattern);
    const done = await eventually(
      async () => {
        const [count, pending] = await Promise.all([handled(), redis.xpending(stream, group)]);
        return count === EVENTS && Number((pending as [number])[0]) === 0;
      },
      60_000,
      200,
    );
    const elapsedMs = Date.now() - started;

    const seen = new Set((await redis.smembers(`${keyPrefix}handled`)).map(Number));
    const missing = Array.from({ length: EVENTS }, (_, i) => i).filter((i) => !seen.has(i));
    const byConsumer = await redis.hgetall(`${keyPrefix}by-consumer`);
    const pending = Number(((await redis.xpending(stream, group)) as [number])[0]);
    process.stderr.write(
      `streams no-loss: ${EVENTS} events in ${elapsedMs} ms; A killed after ${killedAt} handled; per consumer ${JSON.stringify(byConsumer)}\n`,
    );

    expect(missing).toEqual([]);
    expect(done).toBe(true);
    expect(pending).toBe(0);
    expect(killedAt).toBeGreaterThan(0);
    expect(Number(byConsumer['worker-a'] ?? 0) + Number(byConsumer['worker-a2'] ?? 0)).toBeGreaterThan(0);
    expect(Number(byConsumer['worker-b'] ?? 0)).toBeGreaterThan(0);
  }, 120_000);
});
