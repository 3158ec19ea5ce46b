import { Test, TestingModule } from '@nestjs/testing';
import { INestApplication } from '@nestjs/common';
import * as main from '@localcloudlab/nest-redis';
import * as health from '@localcloudlab/nest-redis/health';
import * as metrics from '@localcloudlab/nest-redis/metrics';
import * as transport from '@localcloudlab/nest-redis/transport';
import { CHECK_NAMES } from './../src/check-names';
import { AppModule } from './../src/app.module';
import { closeConsumerApp, CONSUMER_CHECKS } from './../src/consumer-checks';
import { startConsumerApp } from './../src/consumer-app';

/** The consumer app under the project's Jest e2e setup, booted as the spec `nest new` generates does it. */
describe('nest-redis consumer (e2e)', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const moduleFixture: TestingModule = await Test.createTestingModule({
      imports: [AppModule],
    }).compile();
    app = await startConsumerApp(moduleFixture.createNestApplication({ logger: ['error', 'warn'] }));
  });

  afterAll(async () => {
    await closeConsumerApp(app);
  });

  it(CHECK_NAMES.jestEntryPoints, () => {
    expect(typeof main.RedisModule).toBe('function');
    expect(typeof health.RedisHealthIndicator).toBe('function');
    expect(typeof metrics.RedisMetricsModule).toBe('function');
    expect(typeof transport.RedisTransportServer).toBe('function');
    expect(app.get(main.LockService)).toBeInstanceOf(main.LockService);
  });

  it.each(CONSUMER_CHECKS.map((check) => [check.name, check] as const))('%s', async (_name, check) => {
    await check.run(app);
  });
});
