import { afterEach } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { bootstrapTestingApp } from './bootstrap.js';
import { useRedisClient } from './redis-client.js';

/**
 * The usual life of a test file's apps, registered as Jest hooks: an observer connection to the main Redis
 * (`redis`, from {@link useRedisClient}), apps booted with `boot()` closed after each test, and every key under
 * `keyPrefix` deleted at the end. Call it once at the top of a `describe`.
 */
export function useTestApps(keyPrefix: string): {
  readonly redis: Redis;
  boot: typeof bootstrapTestingApp;
} {
  const apps: INestApplicationContext[] = [];
  const redis = useRedisClient({ deleteKeysUnder: keyPrefix });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  return {
    redis,
    async boot(imports, providers) {
      const app = await bootstrapTestingApp(imports, providers);
      apps.push(app);
      return app;
    },
  };
}
