import { describe, expect, it } from '@jest/globals';
import { loadApiConfig } from './load-api-config.js';

const DEFAULT_DATABASE = { url: undefined, schema: undefined, poolSize: 10, singleSession: false };

describe('loadApiConfig()', () => {
  it('defaults to port 3000, the local Redis, the booking: namespace and the embedded database', () => {
    expect(loadApiConfig({})).toEqual({
      port: 3000,
      redis: { url: 'redis://127.0.0.1:6379', keyPrefix: 'booking:' },
      database: DEFAULT_DATABASE,
      seedDemoData: false,
      bookingLockWaitMs: 10_000,
    });
  });

  it('reads PORT, REDIS_URL and REDIS_KEY_PREFIX', () => {
    const env = { PORT: '8080', REDIS_URL: 'redis://:pw@redis:6380/2', REDIS_KEY_PREFIX: 'staging:' };
    expect(loadApiConfig(env)).toMatchObject({
      port: 8080,
      redis: { url: 'redis://:pw@redis:6380/2', keyPrefix: 'staging:' },
    });
  });

  it('reads REDIS_PASSWORD into the Redis options (a Secret next to a URL without credentials)', () => {
    expect(loadApiConfig({ REDIS_URL: 'redis://redis-master:6379', REDIS_PASSWORD: 'pw' }).redis).toEqual({
      url: 'redis://redis-master:6379',
      keyPrefix: 'booking:',
      password: 'pw',
    });
  });

  it('turns on the L1 cache with CACHE_L1_MAX_ENTRIES', () => {
    expect(loadApiConfig({ CACHE_L1_MAX_ENTRIES: '5000' }).redis.cache).toEqual({ l1: { maxEntries: 5_000 } });
    expect(loadApiConfig({ CACHE_L1_MAX_ENTRIES: '0' }).redis.cache).toBeUndefined();
  });

  it('reads the database, seed and lock variables', () => {
    const env = {
      DATABASE_URL: 'postgres://booking:pw@db:5432/booking',
      DATABASE_SCHEMA: 'tenant_1',
      DATABASE_POOL_SIZE: '4',
      DATABASE_SINGLE_SESSION: 'true',
      SEED_DEMO_DATA: '1',
      BOOKING_LOCK_WAIT_MS: '2500',
    };
    expect(loadApiConfig(env)).toMatchObject({
      database: { url: 'postgres://booking:pw@db:5432/booking', schema: 'tenant_1', poolSize: 4, singleSession: true },
      seedDemoData: true,
      bookingLockWaitMs: 2_500,
    });
  });

  it('treats empty variables as unset', () => {
    const env = { PORT: '', REDIS_URL: ' ', REDIS_KEY_PREFIX: '', DATABASE_URL: '', SEED_DEMO_DATA: ' ' };
    expect(loadApiConfig(env)).toEqual(loadApiConfig({}));
  });

  it.each(['http', '-1', '3000.5', '70000'])('rejects PORT=%s naming the variable', (value) => {
    expect(() => loadApiConfig({ PORT: value })).toThrow(`Invalid environment variable PORT`);
  });

  it.each([
    ['DATABASE_SCHEMA', 'public; drop table x'],
    ['DATABASE_POOL_SIZE', '0'],
    ['SEED_DEMO_DATA', 'yes please'],
    ['BOOKING_LOCK_WAIT_MS', '-5'],
  ])('rejects %s=%j naming the variable', (name, value) => {
    expect(() => loadApiConfig({ [name]: value })).toThrow(`Invalid environment variable ${name}`);
  });
});
