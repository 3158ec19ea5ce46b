import { describe, expect, it } from '@jest/globals';
import { loadWorkerConfig } from './load-worker-config.js';

describe('loadWorkerConfig()', () => {
  it('defaults to port 3001, the local Redis and the booking: namespace', () => {
    expect(loadWorkerConfig({})).toEqual({
      port: 3001,
      redis: { url: 'redis://127.0.0.1:6379', keyPrefix: 'booking:' },
    });
  });

  it("reads WORKER_PORT, REDIS_URL and REDIS_KEY_PREFIX, and ignores the API's PORT", () => {
    const env = { PORT: '3000', WORKER_PORT: '9001', REDIS_URL: 'redis://redis:6379', REDIS_KEY_PREFIX: 'staging:' };
    expect(loadWorkerConfig(env)).toEqual({
      port: 9001,
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

  it.each(['', ' '])('treats WORKER_PORT=%j as unset', (value) => {
    expect(loadWorkerConfig({ WORKER_PORT: value }).port).toBe(3001);
  });

  it.each(['worker', '-1', '70000'])('rejects WORKER_PORT=%s naming the variable', (value) => {
    expect(() => loadWorkerConfig({ WORKER_PORT: value })).toThrow('Invalid environment variable WORKER_PORT');
  });
});
