import { describe, expect, it } from '@jest/globals';
import { loadApiConfig } from './load-api-config.js';

const DEFAULT_DATABASE = { url: undefined, schema: undefined, poolSize: 10, singleSession: false };

describe('loadApiConfig()', () => {
  it('defaults to port 3000, the local Redis, the booking: namespace and the embedded database', () => {
    expect(loadApiConfig({})).toEqual({
      port: 3000,
      managementPort: 9000,
      redis: { url: 'redis://127.0.0.1:6379', keyPrefix: 'booking:' },
      database: DEFAULT_DATABASE,
      seedDemoData: false,
      bookingLockWaitMs: 10_000,
      holdTtlMs: 300_000,
      paymentDelayMs: 200,
      bookingEventsReplicas: 0,
      rateLimit: { limit: 20, windowMs: 60_000 },
    });
  });

  it('reads the hold, payment and rate-limit variables', () => {
    const env = { HOLD_TTL_MS: '4000', PAYMENT_DELAY_MS: '50', RATE_LIMIT_LIMIT: '5', RATE_LIMIT_WINDOW_MS: '30000' };
    expect(loadApiConfig(env)).toMatchObject({
      holdTtlMs: 4_000,
      paymentDelayMs: 50,
      rateLimit: { limit: 5, windowMs: 30_000 },
    });
  });

  it('reads BOOKING_EVENTS_REPLICAS, and refuses a value that is not a whole number of replicas', () => {
    expect(loadApiConfig({ BOOKING_EVENTS_REPLICAS: '1' }).bookingEventsReplicas).toBe(1);
    expect(() => loadApiConfig({ BOOKING_EVENTS_REPLICAS: 'two' })).toThrow(/BOOKING_EVENTS_REPLICAS/);
    expect(() => loadApiConfig({ BOOKING_EVENTS_REPLICAS: '-1' })).toThrow(/BOOKING_EVENTS_REPLICAS/);
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

  it('connects through Sentinel with REDIS_SENTINELS and REDIS_SENTINEL_NAME instead of REDIS_URL, failover detector on', () => {
    const env = { REDIS_SENTINELS: 'sentinel-0:26379, sentinel-1:26379', REDIS_SENTINEL_NAME: 'mymaster' };
    expect(loadApiConfig(env).redis).toEqual({
      sentinels: ['sentinel-0:26379', 'sentinel-1:26379'],
      name: 'mymaster',
      redisOptions: { failoverDetector: true },
      keyPrefix: 'booking:',
    });
  });

  it.each([
    [{ REDIS_SENTINELS: 's:26379' }, 'REDIS_SENTINEL_NAME'],
    [{ REDIS_SENTINEL_NAME: 'mymaster' }, 'REDIS_SENTINELS'],
    [{ REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_NAME: 'm', REDIS_URL: 'redis://:pw@r:6379' }, 'REDIS_SENTINELS'],
    [{ REDIS_SENTINELS: 's:26379,s2', REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINELS'],
    [{ REDIS_SENTINELS: 's:99999', REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINELS'],
  ])('rejects incomplete or malformed Sentinel settings %j naming %s (never echoing REDIS_URL)', (env, name) => {
    expect(() => loadApiConfig(env)).toThrow(`Invalid environment variable ${name}`);
    expect(() => loadApiConfig(env)).not.toThrow(/pw/);
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

  it('reads MANAGEMENT_PORT and refuses it equal to PORT', () => {
    expect(loadApiConfig({ MANAGEMENT_PORT: '9100' }).managementPort).toBe(9100);
    expect(() => loadApiConfig({ PORT: '8080', MANAGEMENT_PORT: '8080' })).toThrow(
      'Invalid environment variable MANAGEMENT_PORT: expected a port other than PORT',
    );
  });

  it.each(['http', '-1', '3000.5', '70000'])('rejects PORT=%s naming the variable', (value) => {
    expect(() => loadApiConfig({ PORT: value })).toThrow(`Invalid environment variable PORT`);
  });

  it.each([
    ['DATABASE_SCHEMA', 'public; drop table x'],
    ['DATABASE_POOL_SIZE', '0'],
    ['SEED_DEMO_DATA', 'yes please'],
    ['BOOKING_LOCK_WAIT_MS', '-5'],
    ['HOLD_TTL_MS', '10'],
    ['RATE_LIMIT_LIMIT', '0'],
    ['RATE_LIMIT_WINDOW_MS', 'soon'],
  ])('rejects %s=%j naming the variable', (name, value) => {
    expect(() => loadApiConfig({ [name]: value })).toThrow(`Invalid environment variable ${name}`);
  });
});
