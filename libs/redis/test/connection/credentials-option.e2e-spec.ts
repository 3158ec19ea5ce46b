import { describe, expect, it } from '@jest/globals';
import { RedisConnectionError, RedisOptionsError, type RedisModuleOptions } from '@app/redis';
import { RedisTransportServer } from '@app/redis/transport';
import { REDIS_URL, bootRedisModule, startupError } from '@test/harness';

const SECRET = 'never-print-this-secret-5d2b';
/** Long, so a failure reported before it shows the error was taken as permanent rather than waited out. */
const CONNECT_TIMEOUT = 30_000;

async function startWith(options: Record<string, unknown>): Promise<Error> {
  return startupError(() =>
    bootRedisModule({ url: REDIS_URL, connectTimeout: CONNECT_TIMEOUT, ...options } as RedisModuleOptions),
  );
}

describe('The credentials option rejects bad input at startup, naming the option and never the secret', () => {
  it('rejects a value that is neither a function nor { username?, password }', async () => {
    const error = await startWith({ credentials: SECRET });
    expect(error).toBeInstanceOf(RedisOptionsError);
    expect((error as RedisOptionsError).field).toBe('credentials');
    expect(error.message).not.toContain(SECRET);
  });

  it('names the path of a named connection', async () => {
    const error = await startWith({ connections: { side: { url: REDIS_URL, credentials: 42 } } });
    expect(error).toBeInstanceOf(RedisOptionsError);
    expect((error as RedisOptionsError).field).toBe('connections.side.credentials');
  });

  it('rejects an object without a password, and one combined with username/password', async () => {
    const missing = await startWith({ credentials: { username: 'app' } });
    expect((missing as RedisOptionsError).field).toBe('credentials.password');
    const combined = await startWith({ credentials: () => ({ password: SECRET }), password: SECRET });
    expect(combined).toBeInstanceOf(RedisOptionsError);
    expect(combined.message).toContain('"credentials"');
    expect(combined.message).toContain('"password"');
    expect(combined.message).not.toContain(SECRET);
  });

  it('fails startup when the function throws, naming the option and the reason', async () => {
    const error = await startWith({
      credentials: () => {
        throw new Error('token service unreachable');
      },
    });
    expect(error).toBeInstanceOf(RedisConnectionError);
    expect(error.message).toContain('"credentials"');
    expect(error.message).toContain('token service unreachable');
  });

  it('fails startup when the function never answers, naming the option', async () => {
    const error = await startupError(() =>
      bootRedisModule({ url: REDIS_URL, connectTimeout: 300, credentials: () => new Promise<never>(() => undefined) }),
    );
    expect(error).toBeInstanceOf(RedisConnectionError);
    expect(error.message).toContain('"credentials"');
    expect(error.message).toContain('no answer within 150 ms');
  });

  it('fails startup when an async function resolves to nothing', async () => {
    const error = await startWith({ credentials: async () => undefined });
    expect(error).toBeInstanceOf(RedisConnectionError);
    expect(error.message).toContain('"credentials"');
    expect(error.message).toContain('it returned nothing');
  });

  it('fails startup when it returns a malformed object, without echoing the password it holds', async () => {
    const error = await startWith({
      connections: { side: { credentials: () => ({ username: 7, password: SECRET }) } },
    });
    expect(error).toBeInstanceOf(RedisConnectionError);
    expect(error.message).toContain('"connections.side.credentials"');
    expect(error.message).toContain('username');
    expect(error.message).not.toContain(SECRET);
  });

  it('fails a transport at startup the same way', async () => {
    const server = new RedisTransportServer({
      url: REDIS_URL,
      connectTimeout: CONNECT_TIMEOUT,
      credentials: () => ({ password: '' }),
    });
    const error = await new Promise<Error>((resolve) => {
      server.listen((failure?: unknown) => resolve(failure as Error));
    });
    await server.close();
    expect(error).toBeDefined();
    expect(String(error.message)).toContain('"credentials"');
  });
});
