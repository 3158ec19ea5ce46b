import { describe, expect, it } from '@jest/globals';
import { loadApiConfig } from './load-api-config.js';

describe('loadApiConfig()', () => {
  it('defaults to port 3000, the local Redis and the booking: namespace', () => {
    expect(loadApiConfig({})).toEqual({
      port: 3000,
      redis: { url: 'redis://127.0.0.1:6379', keyPrefix: 'booking:' },
    });
  });

  it('reads PORT, REDIS_URL and REDIS_KEY_PREFIX', () => {
    const env = { PORT: '8080', REDIS_URL: 'redis://:pw@redis:6380/2', REDIS_KEY_PREFIX: 'staging:' };
    expect(loadApiConfig(env)).toEqual({
      port: 8080,
      redis: { url: 'redis://:pw@redis:6380/2', keyPrefix: 'staging:' },
    });
  });

  it('treats empty variables as unset', () => {
    expect(loadApiConfig({ PORT: '', REDIS_URL: ' ', REDIS_KEY_PREFIX: '' })).toEqual(loadApiConfig({}));
  });

  it.each(['http', '-1', '3000.5', '70000'])('rejects PORT=%s naming the variable', (value) => {
    expect(() => loadApiConfig({ PORT: value })).toThrow(`Invalid environment variable PORT`);
  });
});
