import { afterEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { RedisModule, RedisOptionsError } from '@app/redis';
import { RedisMetricsModule, type RedisMetricsOptions } from '@app/redis/metrics';
import { REDIS_URL, silentLogger, uniqueKeyPrefix } from '@test/harness';

describe('RedisMetricsModule.forRoot({ path })', () => {
  let app: INestApplication | undefined;

  async function serve(options: RedisMetricsOptions, globalPrefix?: string): Promise<INestApplication> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({ url: REDIS_URL, keyPrefix: uniqueKeyPrefix('metrics-endpoint') }),
        RedisMetricsModule.forRoot(options),
      ],
    })
      .setLogger(silentLogger)
      .compile();
    app = moduleRef.createNestApplication({ logger: false });
    if (globalPrefix) app.setGlobalPrefix(globalPrefix);
    await app.init();
    return app;
  }

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('serves the metrics at the path in the Prometheus text format', async () => {
    const response = await request((await serve({ path: '/internal/metrics' })).getHttpServer())
      .get('/internal/metrics')
      .expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.text).toMatch(/^# HELP nest_redis_/m);
  });

  it("applies the app's global prefix, like any controller", async () => {
    const server = (await serve({ path: 'metrics' }, 'api')).getHttpServer();
    await request(server).get('/api/metrics').expect(200);
    await request(server).get('/metrics').expect(404);
  });

  it('serves nothing without a path', async () => {
    await request((await serve({})).getHttpServer())
      .get('/metrics')
      .expect(404);
  });

  it.each([['has spaces'], ['/metrics?x=1'], ['//double'], [''], [42]])(
    'rejects the path %p at startup, naming metrics.path',
    (path) => {
      expect(() => RedisMetricsModule.forRoot({ path } as RedisMetricsOptions)).toThrow(RedisOptionsError);
      expect(() => RedisMetricsModule.forRoot({ path } as RedisMetricsOptions)).toThrow(/metrics\.path/);
    },
  );
});
