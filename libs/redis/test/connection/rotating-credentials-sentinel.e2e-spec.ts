import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import { CacheService, LockService, type RedisCredentials } from '@app/redis';
import { LogCapture, RedisServerProcess, bootRedisModule, eventually } from '@test/harness';

const USER = 'rotor';
const FIRST_SECRET = 'sentinel-first-secret-a81f';
const SECOND_SECRET = 'sentinel-second-secret-46d0';

/** How many connections the server has for `user`. */
async function connectionCount(admin: Redis, user: string): Promise<number> {
  const list = (await admin.client('LIST')) as string;
  return list.split('\n').filter((line) => new RegExp(`(?:^| )user=${user}(?: |$)`).test(line)).length;
}

describe('A credentials function through Redis Sentinel', () => {
  let master: RedisServerProcess;
  let sentinel: RedisServerProcess;
  let admin: Redis;
  let app: INestApplicationContext;
  const logs = new LogCapture();
  let secret = FIRST_SECRET;
  let calls = 0;
  const credentials = (): RedisCredentials => {
    calls++;
    return { username: USER, password: secret };
  };

  beforeAll(async () => {
    master = await RedisServerProcess.start({ args: ['--requirepass', 'sentinel-admin-pw'] });
    admin = new Redis(master.port, '127.0.0.1', { password: 'sentinel-admin-pw' });
    await admin.call('ACL', 'SETUSER', USER, 'on', `>${FIRST_SECRET}`, '~*', '&*', '+@all');
    sentinel = await RedisServerProcess.start({
      sentinelConfig: [
        `sentinel monitor mymaster 127.0.0.1 ${master.port} 1`,
        'sentinel auth-pass mymaster sentinel-admin-pw',
        'sentinel down-after-milliseconds mymaster 2000',
      ].join('\n'),
    });
    const probe = new Redis(sentinel.port, '127.0.0.1');
    await eventually(async () => ((await probe.call('SENTINEL', 'MASTERS')) as unknown[]).length === 1, 5_000);
    probe.disconnect();
    app = await bootRedisModule(
      {
        sentinels: [`127.0.0.1:${sentinel.port}`],
        name: 'mymaster',
        credentials,
        keyPrefix: 'creds-sentinel:',
        lock: { ttl: 5_000 },
      },
      logs.logger,
    );
    const locks = app.get(LockService);
    const held = await locks.acquire('warm');
    const waiter = locks.acquire('warm', { waitTimeout: 5_000 });
    setTimeout(() => void held.release(), 50);
    await (await waiter).release();
  }, 30_000);

  afterAll(async () => {
    await app?.close();
    admin?.disconnect();
    await sentinel?.stop();
    await master?.stop();
  });

  it('reconnects the master and subscriber connections with the rotated secret', async () => {
    const before = await connectionCount(admin, USER);
    expect(before).toBe(2);
    const callsBefore = calls;
    secret = SECOND_SECRET;
    await admin.call('ACL', 'SETUSER', USER, 'resetpass', `>${SECOND_SECRET}`);
    expect(await admin.call('CLIENT', 'KILL', 'USER', USER)).toBe(before);
    expect(await eventually(async () => (await connectionCount(admin, USER)) === before, 15_000)).toBe(true);
    expect(calls - callsBefore).toBeGreaterThanOrEqual(before);

    const cache = app.get(CacheService);
    // The connection count is back once the sockets are up; the client is ready only after Sentinel's role check,
    // and until then the cache fails open (a set is dropped): retry the round trip until it is ready.
    expect(
      await eventually(async () => {
        await cache.set('after-rotation', 1);
        return (await cache.get('after-rotation')) === 1;
      }, 15_000),
    ).toBe(true);
    expect(logs.text).not.toContain(FIRST_SECRET);
    expect(logs.text).not.toContain(SECOND_SECRET);
  });
});
