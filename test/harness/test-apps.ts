import { afterAll, afterEach, beforeAll } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import { bootstrapTestingApp } from './bootstrap.js';
import { deleteKeysWithPrefix } from './key-prefix.js';
import { REDIS_URL } from './redis-url.js';

/**
 * The usual life of a test file's apps, registered as Jest hooks: an observer connection to the main Redis
 * (`redis`), apps booted with `boot()` closed after each test, and every key under `keyPrefix` deleted at the end.
 * Call it once at the top of a `describe`.
 */
export function useTestApps(keyPrefix: string): {
  readonly redis: Redis;
  boot: typeof bootstrapTestingApp;
} {
  const apps: INestApplicationContext[] = [];
  let redis: Redis | undefined;

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  afterAll(async () => {
    if (!redis) return;
    await deleteKeysWithPrefix(redis, keyPrefix);
    await redis.quit();
  });

  return {
    get redis(): Redis {
      if (!redis) throw new Error('useTestApps().redis is only available inside tests and hooks');
      return redis;
    },
    async boot(imports, providers) {
      const app = await bootstrapTestingApp(imports, providers);
      apps.push(app);
      return app;
    },
  };
}
