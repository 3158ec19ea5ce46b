import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import { Cluster } from 'ioredis';
import { RedisKeyspace, RedisModule, getRedisConnectionToken, type RedisClient } from '@app/redis';
import { RedisClusterProcesses, bootstrapTestingApp, clientsNamed, eventually, uniqueKeyPrefix } from '@test/harness';

describe('RedisModule with a Redis Cluster (3 throwaway masters)', () => {
  let cluster: RedisClusterProcesses;
  let app: INestApplicationContext;
  const prefix = uniqueKeyPrefix('cluster');

  beforeAll(async () => {
    cluster = await RedisClusterProcesses.start(3);
    app = await bootstrapTestingApp([
      RedisModule.forRoot({ cluster: { nodes: cluster.addresses }, keyPrefix: prefix, clientName: 'cluster-test' }),
    ]);
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await cluster?.stop();
  });

  it('injects a Cluster client that sets and gets keys living in different slots on different masters', async () => {
    const client = app.get<RedisClient>(getRedisConnectionToken());
    expect(client).toBeInstanceOf(Cluster);
    const keyspace = app.get(RedisKeyspace);
    const keys = Array.from({ length: 30 }, (_, i) => keyspace.key('item', String(i)));
    await Promise.all(keys.map((key, i) => client.set(key, `value-${i}`)));
    expect(await Promise.all(keys.map((key) => client.get(key)))).toEqual(keys.map((_, i) => `value-${i}`));

    const masters = (client as Cluster).nodes('master');
    expect(masters).toHaveLength(3);
    const perMaster = await Promise.all(masters.map((node) => node.dbsize()));
    expect(perMaster.every((count) => count > 0)).toBe(true);
    const slots = new Set(await Promise.all(keys.map((key) => masters[0].cluster('KEYSLOT', key) as Promise<number>)));
    expect(slots.size).toBeGreaterThan(1);
  });

  it('scans the namespace across every master', async () => {
    const client = app.get<RedisClient>(getRedisConnectionToken());
    const keyspace = app.get(RedisKeyspace);
    const found: string[] = [];
    for await (const batch of keyspace.scan(client, ['item'])) found.push(...batch);
    expect(found.sort()).toEqual(Array.from({ length: 30 }, (_, i) => keyspace.key('item', String(i))).sort());
  });

  it('names its node connections and closes them all on shutdown', async () => {
    const client = app.get<RedisClient>(getRedisConnectionToken()) as Cluster;
    const [master] = client.nodes('master');
    expect((await clientsNamed(master, 'cluster-test:')).length).toBeGreaterThan(0);
    await app.close();
    const { Redis } = await import('ioredis');
    const observers = cluster.nodes.map((n) => new Redis(n.port, '127.0.0.1'));
    try {
      const allClosed = async () =>
        (await Promise.all(observers.map((o) => clientsNamed(o, 'cluster-test:')))).every(
          (names) => names.length === 0,
        );
      expect(await eventually(allClosed, 3_000)).toBe(true);
    } finally {
      observers.forEach((o) => o.disconnect());
    }
  });
});
