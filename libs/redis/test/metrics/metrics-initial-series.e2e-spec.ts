import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, type INestApplication } from '@nestjs/common';
import { EventPattern, MessagePattern } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { CacheService, RedisModule } from '@app/redis';
import { RedisMetricsModule } from '@app/redis/metrics';
import { RedisTransportServer } from '@app/redis/transport';
import { REDIS_URL, silentLogger, uniqueKeyPrefix, useRedisClient } from '@test/harness';

const prefix = 'initial_redis_';
const keyPrefix = uniqueKeyPrefix('metrics-initial');
useRedisClient({ deleteKeysUnder: keyPrefix });

/** The value of the sample `name{labels}` (labels in any order; extra labels on the sample are not allowed). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== prefix + name) continue;
    const got = (match[2] ?? '')
      .split(/,(?=\w+=")/)
      .filter(Boolean)
      .sort()
      .join(',');
    if (got === wanted) return Number(match[3]);
  }
  return undefined;
}

@Controller()
class InitialSeriesController {
  @EventPattern('initial.booked')
  onBooked(data: unknown): unknown {
    return data;
  }

  @MessagePattern('initial.quote')
  quote(data: unknown): unknown {
    return data;
  }
}

/**
 * The series a dashboard and the alert rules read exist from the first scrape, at 0, before any event: a series
 * born with its first event hides that event from `rate()` and `increase()`. And the cache loader's duration is
 * observed (the dashboard's "loader p99" panel), by outcome.
 */
describe('metrics: known label sets start at 0, loader durations are observed', () => {
  let app: INestApplication;
  let first: string;
  const scrape = async () => (await request(app.getHttpServer()).get('/metrics').expect(200)).text;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({ url: REDIS_URL, keyPrefix }),
        RedisMetricsModule.forRoot({ prefix, path: '/metrics' }),
      ],
      controllers: [InitialSeriesController],
    })
      .setLogger(silentLogger)
      .compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.connectMicroservice({
      strategy: RedisTransportServer.fromApp(app, { mode: 'streams', streams: { group: 'metrics-initial' } }),
    });
    await app.startAllMicroservices();
    await app.init();
    first = await scrape();
  });

  afterAll(async () => {
    await app?.close();
  });

  it("starts the connection counters of every configured connection at 0 (the dashboard's $job variable reads them)", () => {
    expect(sample(first, 'connection_errors_total', { connection: 'default' })).toBe(0);
    expect(sample(first, 'connection_reconnects_total', { connection: 'default' })).toBe(0);
  });

  it('starts the lock counters at 0 for every failure reason of the mode, and the wait histogram per outcome', () => {
    expect(sample(first, 'lock_acquisitions_total', { mode: 'single' })).toBe(0);
    expect(sample(first, 'lock_losses_total', { mode: 'single' })).toBe(0);
    for (const reason of ['contention', 'unreachable', 'aborted']) {
      expect(sample(first, 'lock_failures_total', { mode: 'single', reason })).toBe(0);
    }
    for (const outcome of ['acquired', 'failed']) {
      expect(sample(first, 'lock_wait_seconds_count', { mode: 'single', outcome })).toBe(0);
      expect(sample(first, 'lock_wait_seconds_bucket', { mode: 'single', outcome, le: '+Inf' })).toBe(0);
    }
  });

  it("starts the transport counters and handler histogram at 0 for each of the server's patterns", () => {
    for (const pattern of ['initial.booked', 'initial.quote']) {
      const labels = { pattern, mode: 'streams' };
      expect(sample(first, 'transport_messages_handled_total', labels)).toBe(0);
      expect(sample(first, 'transport_messages_failed_total', labels)).toBe(0);
      expect(sample(first, 'transport_messages_dead_lettered_total', labels)).toBe(0);
      for (const outcome of ['ok', 'failed', 'dead-lettered']) {
        expect(sample(first, 'transport_handler_duration_seconds_count', { ...labels, outcome })).toBe(0);
      }
    }
  });

  it('observes each cache loader run in cache_load_duration_seconds, by outcome (ok, failed)', async () => {
    const cache = app.get(CacheService);
    await cache.wrap('venue:1', () => ({ seats: 3 }), { name: 'initial', ttl: 60_000 });
    await cache.wrap('venue:1', () => ({ seats: 4 }), { name: 'initial', ttl: 60_000 });
    await expect(
      cache.wrap(
        'venue:2',
        () => {
          throw new Error('database down');
        },
        { name: 'initial', ttl: 60_000 },
      ),
    ).rejects.toThrow('database down');
    const text = await scrape();
    expect(sample(text, 'cache_loads_total', { cache: 'initial' })).toBe(2);
    expect(sample(text, 'cache_load_duration_seconds_count', { cache: 'initial', outcome: 'ok' })).toBe(1);
    expect(sample(text, 'cache_load_duration_seconds_count', { cache: 'initial', outcome: 'failed' })).toBe(1);
    expect(sample(text, 'cache_load_duration_seconds_sum', { cache: 'initial', outcome: 'ok' })).toBeGreaterThanOrEqual(
      0,
    );
  });
});
