import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { Registry } from 'prom-client';
import { RedisInstrumentation, RedisModule } from '@app/redis';
import { METRIC_NAMES, REDIS_METRICS_REGISTRY, RedisMetricsModule, RedisMetricsService } from '@app/redis/metrics';
import { RedisServerProcess, bootstrapTestingApp, eventually, uniqueKeyPrefix } from '@test/harness';

/** The value of one sample line `name{labels} value` of the exposition text, or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort();
  for (const line of text.split('\n')) {
    const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const got = (match[2] ?? '').split(',').filter(Boolean).sort();
    if (wanted.every((pair) => got.includes(pair))) return Number(match[3]);
  }
  return undefined;
}

describe('RedisMetricsModule', () => {
  let node: RedisServerProcess;
  let app: INestApplicationContext;

  beforeAll(async () => {
    node = await RedisServerProcess.start({ args: ['--requirepass', 'metrics-secret-pw'] });
    app = await bootstrapTestingApp([
      RedisModule.forRoot({
        url: `redis://:metrics-secret-pw@127.0.0.1:${node.port}`,
        keyPrefix: uniqueKeyPrefix('metrics'),
        clientName: 'metrics-test',
      }),
      RedisMetricsModule.forRoot({ prefix: 'test_redis_' }),
    ]);
  });

  afterAll(async () => {
    await app?.close();
    await node?.stop();
  });

  it('registers every documented metric, prefixed, on the injectable registry', async () => {
    const registry = app.get<Registry>(REDIS_METRICS_REGISTRY);
    expect(registry).toBeInstanceOf(Registry);
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name).sort();
    expect(names).toEqual(
      Object.values(METRIC_NAMES)
        .map((n) => `test_redis_${n}`)
        .sort(),
    );
  });

  it('counts reconnects of a connection whose server went away, and never shows the password', async () => {
    const metrics = app.get(RedisMetricsService);
    const counter = async (name: string) => sample(await metrics.metrics(), name, { connection: 'default' }) ?? 0;
    await node.kill();
    // While the server is down every reconnect attempt is refused: an error, then another reconnect.
    expect(await eventually(async () => (await counter('test_redis_connection_errors_total')) >= 1, 10_000)).toBe(true);
    expect(await counter('test_redis_connection_reconnects_total')).toBeGreaterThanOrEqual(1);
    await node.restart();
    expect(await metrics.metrics()).not.toContain('metrics-secret-pw');
  });

  it('turns instrumentation events into exact counter increments and histogram observations', async () => {
    const metrics = app.get(RedisMetricsService);
    const instrumentation = app.get(RedisInstrumentation);
    for (let i = 0; i < 3; i++) instrumentation.emit('lock.acquired', { mode: 'single', waitMs: 4 });
    instrumentation.emit('lock.failed', { mode: 'single', reason: 'contention', waitMs: 100 });
    instrumentation.emit('transport.handled', { pattern: 'booking.*', mode: 'streams', durationMs: 2, outcome: 'ok' });
    instrumentation.emit('transport.handled', {
      pattern: 'booking.*',
      mode: 'streams',
      durationMs: 2,
      outcome: 'dead-lettered',
    });
    const text = await metrics.metrics();
    expect(sample(text, 'test_redis_lock_acquisitions_total', { mode: 'single' })).toBe(3);
    expect(sample(text, 'test_redis_lock_failures_total', { mode: 'single', reason: 'contention' })).toBe(1);
    expect(sample(text, 'test_redis_lock_wait_seconds_count', { mode: 'single', outcome: 'acquired' })).toBe(3);
    expect(sample(text, 'test_redis_transport_messages_handled_total', { pattern: 'booking.*', mode: 'streams' })).toBe(
      1,
    );
    expect(sample(text, 'test_redis_transport_messages_dead_lettered_total', { pattern: 'booking.*' })).toBe(1);
  });

  it('reads cache counters and consumer lag from their sources at scrape time', async () => {
    const metrics = app.get(RedisMetricsService);
    const counters = { hits: 5, misses: 2, stale: 1, loads: 2, errors: 0 };
    metrics.addCacheCounters(() => ({ 'AvailabilityService.search': counters }));
    const remove = metrics.addConsumerLagSource(async () => [{ stream: 'booking.created', group: 'worker', lag: 7 }]);
    let text = await metrics.metrics();
    expect(sample(text, 'test_redis_cache_hits_total', { cache: 'AvailabilityService.search' })).toBe(5);
    expect(sample(text, 'test_redis_transport_consumer_lag', { stream: 'booking.created', group: 'worker' })).toBe(7);
    counters.hits = 9;
    remove();
    text = await metrics.metrics();
    expect(sample(text, 'test_redis_cache_hits_total', { cache: 'AvailabilityService.search' })).toBe(9);
    expect(
      sample(text, 'test_redis_transport_consumer_lag', { stream: 'booking.created', group: 'worker' }),
    ).toBeUndefined();
  });

  it('rejects an invalid prefix at startup, naming the field', () => {
    expect(() => RedisMetricsModule.forRoot({ prefix: 'bad-prefix' })).toThrow(/"metrics\.prefix"/);
  });
});
