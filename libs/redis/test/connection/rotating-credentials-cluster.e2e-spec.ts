import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import { CacheService, LockService, type RedisCredentials } from '@app/redis';
import { LogCapture, RedisClusterProcesses, bootRedisModule, eventually } from '@test/harness';

const USER = 'rotor';
const FIRST_SECRET = 'cluster-first-secret-e5c7';
const SECOND_SECRET = 'cluster-second-secret-19ab';

/** How many connections each node has for `user`. */
async function connectionCounts(admins: Redis[], user: string): Promise<number[]> {
  return Promise.all(
    admins.map(async (admin) => {
      const list = (await admin.client('LIST')) as string;
      return list.split('\n').filter((line) => new RegExp(`(?:^| )user=${user}(?: |$)`).test(line)).length;
    }),
  );
}

describe('A credentials function on a Redis Cluster', () => {
  let cluster: RedisClusterProcesses;
  let admins: Redis[];
  let app: INestApplicationContext;
  const logs = new LogCapture();
  let secret = FIRST_SECRET;
  let calls = 0;
  const credentials = async (): Promise<RedisCredentials> => {
    calls++;
    return { username: USER, password: secret };
  };

  beforeAll(async () => {
    cluster = await RedisClusterProcesses.start(3);
    admins = cluster.nodes.map((node) => new Redis(node.port, '127.0.0.1'));
    await Promise.all(
      admins.map((admin) => admin.call('ACL', 'SETUSER', USER, 'on', `>${FIRST_SECRET}`, '~*', '&*', '+@all')),
    );
    app = await bootRedisModule(
      { cluster: { nodes: cluster.addresses }, credentials, keyPrefix: '{creds}:', clientName: 'creds-cluster' },
      logs.logger,
    );
    const cache = app.get(CacheService);
    // Touches every master, so each has a node connection before the rotation.
    await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((k) => cache.set(k, k)));
    await (await app.get(LockService).acquire('warm')).release();
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    admins?.forEach((admin) => admin.disconnect());
    await cluster?.stop();
  });

  it('reconnects the node connections with the rotated secret', async () => {
    const before = await connectionCounts(admins, USER);
    expect(before.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const callsBefore = calls;
    secret = SECOND_SECRET;
    await Promise.all(admins.map((admin) => admin.call('ACL', 'SETUSER', USER, 'resetpass', `>${SECOND_SECRET}`)));
    await Promise.all(admins.map((admin) => admin.call('CLIENT', 'KILL', 'USER', USER)));

    const cache = app.get(CacheService);
    expect(
      await eventually(async () => {
        await cache.set('after-rotation', 1);
        return (await cache.get('after-rotation')) === 1;
      }, 15_000),
    ).toBe(true);
    // ioredis reopens Cluster node connections lazily, so fewer may be back than before; every one that is back
    // authenticated with the new secret (the old one no longer opens anything).
    const after = await connectionCounts(admins, USER);
    expect(after.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const lock = await app.get(LockService).acquire('after-rotation');
    expect(await lock.release()).toBe(true);
    expect(calls).toBeGreaterThan(callsBefore);
    expect(logs.text).not.toContain(FIRST_SECRET);
    expect(logs.text).not.toContain(SECOND_SECRET);
  });
});
