import { afterAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { lastValueFrom } from 'rxjs';
import { RedisTransportClient, RedisTransportServer, RedisTransportStatus } from '@app/redis/transport';
import { REDIS_URL, RedisServerProcess, eventually, uniqueKeyPrefix, useRedisClient } from '@test/harness';
import { type WorkerProcess, spawnWorker, stopWorker } from './fixtures/spawn-worker.js';

const EVENTS = 3_000;
const keyPrefix = uniqueKeyPrefix('transport-redis-restart');
const group = 'restart';
const pattern = 'booking.created';
const records = useRedisClient({ deleteKeysUnder: keyPrefix });

describe('RedisTransportServer › streams mode › Redis restarted mid-run', () => {
  let redisProcess: RedisServerProcess | undefined;
  const workers: WorkerProcess[] = [];

  afterAll(async () => {
    await Promise.all(workers.map((w) => stopWorker(w)));
    await redisProcess?.stop();
  });

  it('consumers resume by themselves and every event emit() confirmed is handled', async () => {
    // A throwaway server persists nothing by default; a crash-safe stream needs the AOF, fsynced on every write.
    redisProcess = await RedisServerProcess.start({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    const url = redisProcess.url;
    const args = (consumer: string) => [url, keyPrefix, group, consumer, pattern, REDIS_URL];
    workers.push(await spawnWorker(args('worker-a')), await spawnWorker(args('worker-b')));

    const client = new RedisTransportClient({ url, keyPrefix, mode: 'streams', reconnectMaxDelay: 200 });
    const statuses: string[] = [];
    client.status.subscribe((s) => statuses.push(s));
    const confirmed = new Set<number>();
    let failed = 0;
    try {
      for (let seq = 0; seq < EVENTS; seq += 50) {
        await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            lastValueFrom(client.emit(pattern, { seq: seq + i })).then(
              () => confirmed.add(seq + i),
              () => failed++,
            ),
          ),
        );
        if (seq === 1_000) {
          await redisProcess.kill();
          // Emits issued while Redis is down wait in the client (up to emitTimeout, 10 s) for the reconnection.
          setTimeout(() => void redisProcess!.restart(), 1_000);
        }
      }
    } finally {
      await client.close();
    }

    const handled = async () => new Set((await records.smembers(`${keyPrefix}handled`)).map(Number));
    const allHandled = await eventually(
      async () => {
        const seen = await handled();
        return [...confirmed].every((seq) => seen.has(seq));
      },
      30_000,
      200,
    );
    const seen = await handled();
    const lost = [...confirmed].filter((seq) => !seen.has(seq));
    process.stderr.write(
      `streams redis-restart: ${confirmed.size} confirmed, ${failed} failed emits, ${seen.size} handled, lost ${lost.length}\n`,
    );
    expect(lost).toEqual([]);
    expect(allHandled).toBe(true);
    expect(statuses).toContain(RedisTransportStatus.RECONNECTING);
    expect(confirmed.size).toBeGreaterThan(EVENTS / 2);

    const direct = new Redis(url);
    try {
      const stream = new RedisTransportServer({ url, keyPrefix, mode: 'streams', streams: { group } }).streamKey(
        pattern,
      );
      expect(
        await eventually(async () => Number(((await direct.xpending(stream, group)) as [number])[0]) === 0, 10_000),
      ).toBe(true);
    } finally {
      direct.disconnect();
    }
  }, 90_000);
});
