import { describe, expect, it } from '@jest/globals';
import { hostname } from 'node:os';
import { loadWorkerConfig } from './load-worker-config.js';

describe('loadWorkerConfig()', () => {
  it('defaults to port 3001, the local Redis and the booking: namespace', () => {
    expect(loadWorkerConfig({})).toEqual({
      port: 3001,
      managementPort: 9001,
      workerId: `${hostname()}:${process.pid}`,
      redis: { url: 'redis://127.0.0.1:6379', keyPrefix: 'booking:' },
    });
  });

  it("reads WORKER_ID and the API's database variables (the hold-release job works on the API's database)", () => {
    const env = {
      WORKER_ID: 'booking-worker-7c9f',
      DATABASE_URL: 'postgres://booking:pw@db:5432/booking',
      DATABASE_SCHEMA: 'tenant_1',
      DATABASE_SINGLE_SESSION: 'true',
    };
    expect(loadWorkerConfig(env)).toMatchObject({
      workerId: 'booking-worker-7c9f',
      database: { url: env.DATABASE_URL, schema: 'tenant_1', poolSize: 2, singleSession: true },
    });
    expect(() => loadWorkerConfig({ WORKER_ID: 'no spaces' })).toThrow('Invalid environment variable WORKER_ID');
    expect(() => loadWorkerConfig({ ...env, DATABASE_SCHEMA: 'x; drop' })).toThrow(
      'Invalid environment variable DATABASE_SCHEMA',
    );
  });

  it("reads WORKER_PORT, REDIS_URL and REDIS_KEY_PREFIX, and ignores the API's PORT", () => {
    const env = { PORT: '3000', WORKER_PORT: '9001', REDIS_URL: 'redis://redis:6379', REDIS_KEY_PREFIX: 'staging:' };
    expect(loadWorkerConfig({ ...env, WORKER_MANAGEMENT_PORT: '9101' })).toEqual({
      port: 9001,
      managementPort: 9101,
      workerId: `${hostname()}:${process.pid}`,
      redis: { url: 'redis://redis:6379', keyPrefix: 'staging:' },
    });
  });

  it('reads REDIS_PASSWORD into the Redis options', () => {
    expect(loadWorkerConfig({ REDIS_PASSWORD: 'pw' }).redis).toEqual({
      url: 'redis://127.0.0.1:6379',
      keyPrefix: 'booking:',
      password: 'pw',
    });
  });

  it('reads the Sentinel variables as booking-api does', () => {
    expect(loadWorkerConfig({ REDIS_SENTINELS: '10.0.0.1:26379', REDIS_SENTINEL_NAME: 'mymaster' }).redis).toEqual({
      sentinels: ['10.0.0.1:26379'],
      name: 'mymaster',
      redisOptions: { failoverDetector: true },
      keyPrefix: 'booking:',
    });
    expect(() => loadWorkerConfig({ REDIS_SENTINELS: '10.0.0.1:26379' })).toThrow(
      'Invalid environment variable REDIS_SENTINEL_NAME',
    );
  });

  it('reads NOTIFICATIONS_TOKEN, and refuses a short one without echoing it', () => {
    const token = 'a'.repeat(32);
    expect(loadWorkerConfig({ NOTIFICATIONS_TOKEN: token }).notificationsToken).toBe(token);
    expect(() => loadWorkerConfig({ NOTIFICATIONS_TOKEN: 'short-secret' })).toThrow(
      'Invalid environment variable NOTIFICATIONS_TOKEN: expected at least 32 characters.',
    );
    expect(() => loadWorkerConfig({ NOTIFICATIONS_TOKEN: 'short-secret' })).not.toThrow(/short-secret/);
  });

  it('refuses WORKER_MANAGEMENT_PORT equal to WORKER_PORT', () => {
    expect(() => loadWorkerConfig({ WORKER_PORT: '4000', WORKER_MANAGEMENT_PORT: '4000' })).toThrow(
      'Invalid environment variable WORKER_MANAGEMENT_PORT',
    );
  });

  it.each(['', ' '])('treats WORKER_PORT=%j as unset', (value) => {
    expect(loadWorkerConfig({ WORKER_PORT: value }).port).toBe(3001);
  });

  it.each(['worker', '-1', '70000'])('rejects WORKER_PORT=%s naming the variable', (value) => {
    expect(() => loadWorkerConfig({ WORKER_PORT: value })).toThrow('Invalid environment variable WORKER_PORT');
  });
});
