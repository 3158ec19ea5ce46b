import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { RedisModule } from '@app/redis';
import { RedisMetricsModule, RedisMetricsService } from '@app/redis/metrics';
import { RateLimitModule, RateLimiter, RedisThrottlerStorage } from '@app/redis/rate-limit';
import { RedisServerProcess, bootstrapTestingApp, uniqueKeyPrefix } from '@test/harness';

/** The value of the sample `name{labels} value` whose labels include `labels`, or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const got = (match[2] ?? '').split(',');
    if (wanted.every((pair) => got.includes(pair))) return Number(match[3]);
  }
  return undefined;
}

describe('Rate limit metrics (RedisMetricsModule)', () => {
  let server: RedisServerProcess;
  let app: INestApplicationContext;

  beforeAll(async () => {
    server = await RedisServerProcess.start();
    app = await bootstrapTestingApp([
      RedisModule.forRoot({ url: server.url, keyPrefix: uniqueKeyPrefix('rate-limit-metrics') }),
      RedisMetricsModule.forRoot({ prefix: 'rl_test_' }),
      RateLimitModule.forRoot({
        commandTimeout: 200,
        limits: { quota: { algorithm: 'fixed-window', limit: 2, window: 60_000, failurePolicy: 'fail-closed' } },
      }),
    ]);
  });

  afterAll(async () => {
    await app?.close();
    await server?.stop();
  });

  it('counts allowed, rejected and errors per limit and kind, with no key in any label', async () => {
    const limiter = app.get(RateLimiter);
    const storage = app.get(RedisThrottlerStorage);
    for (let i = 0; i < 3; i++) await limiter.consume('quota', 'user-secret-id');
    for (let i = 0; i < 2; i++) await storage.increment('tracker-secret', 60_000, 1, 60_000, 'burst');
    await server.stop({ keepDir: true });
    await limiter.consume('quota', 'user-secret-id');
    await storage.increment('tracker-secret', 60_000, 1, 60_000, 'burst');

    const text = await app.get(RedisMetricsService).metrics();
    const limiterLabels = { limit: 'quota', kind: 'limiter' };
    const throttlerLabels = { limit: 'burst', kind: 'throttler' };
    expect(sample(text, 'rl_test_rate_limit_allowed_total', limiterLabels)).toBe(2);
    // 1 over the limit + 1 refused by fail-closed while Redis was down.
    expect(sample(text, 'rl_test_rate_limit_rejected_total', limiterLabels)).toBe(2);
    expect(sample(text, 'rl_test_rate_limit_errors_total', limiterLabels)).toBe(1);
    // The throttler storage defaults to fail-open: the hit during the outage is allowed and counted as an error.
    expect(sample(text, 'rl_test_rate_limit_allowed_total', throttlerLabels)).toBe(2);
    expect(sample(text, 'rl_test_rate_limit_rejected_total', throttlerLabels)).toBe(1);
    expect(sample(text, 'rl_test_rate_limit_errors_total', throttlerLabels)).toBe(1);
    expect(text).not.toContain('secret');
  }, 30_000);
});
