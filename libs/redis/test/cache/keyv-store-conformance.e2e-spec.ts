import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplicationContext } from '@nestjs/common';
import keyvTestSuite, { keyvIteratorTests } from '@keyv/test-suite';
import { Keyv } from 'keyv';
import { CacheService, RedisKeyspace, RedisKeyvStore, RedisModule, getRedisConnectionToken } from '@app/redis';
import type { RedisClient } from '@app/redis';
import {
  type RedisTopology,
  type RunningTopology,
  bootstrapTestingApp,
  redisCluster,
  singleNode,
  uniqueKeyPrefix,
} from '@test/harness';

/**
 * The official Keyv adapter suite is written for vitest: it calls `test.it(name, fn)` / `test.beforeEach` /
 * `test.afterEach` and hands `fn` a context whose `expect` it asserts with. Jest's own functions fit that shape.
 */
const jestAsVitest = {
  it: (name: string, fn: (context: { expect: typeof expect }) => unknown) => it(name, () => fn({ expect }) as never),
  beforeEach,
  afterEach,
} as never;

/** Every key under `pattern` on every master (SCAN is local to each node). */
async function keysMatching(running: RunningTopology, pattern: string): Promise<string[]> {
  const found: string[] = [];
  for (const node of running.masterClients()) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
  }
  return found.sort();
}

function conformance(topology: RedisTopology): void {
  describe(`RedisKeyvStore on ${topology.name}`, () => {
    const prefix = uniqueKeyPrefix('keyv-store');
    let running: RunningTopology;
    let app: INestApplicationContext;
    let client: RedisClient;
    let keyspace: RedisKeyspace;
    /** A new store over the module's client and keyspace, as an application builds one. */
    const store = () => new RedisKeyvStore(client, keyspace);

    beforeAll(async () => {
      running = await topology.start();
      app = await bootstrapTestingApp([RedisModule.forRoot({ ...running.connection, keyPrefix: prefix })]);
      client = app.get<RedisClient>(getRedisConnectionToken());
      keyspace = app.get(RedisKeyspace);
    }, 60_000);

    afterAll(async () => {
      await app?.close();
      await running?.stop();
    });

    describe('@keyv/test-suite 2.1.2: api, values and namespace tests', () => {
      keyvTestSuite(jestAsVitest, Keyv, store);
    });

    describe('@keyv/test-suite 2.1.2: iterator tests', () => {
      keyvIteratorTests(jestAsVitest, Keyv, store);
    });

    describe('namespaces inside the module key prefix', () => {
      beforeEach(async () => {
        for (const key of await keysMatching(running, `${prefix}*`)) await running.observer.unlink(key);
      });

      it('stores a namespaced key under <keyPrefix>cache:kv:<namespace>:<key as Keyv passes it>', async () => {
        const keyv = new Keyv({ store: store(), namespace: 'users' });
        await keyv.set('42', 'Ada');
        expect(await keysMatching(running, `${prefix}*`)).toEqual([`${prefix}cache:kv:users:users:42`]);
        const raw = new Keyv({ store: store(), namespace: undefined, useKeyPrefix: false });
        await raw.set('7', 'Bo');
        expect(await running.observer.exists(`${prefix}cache:cm:7`)).toBe(1);
      });

      it('clear() of one namespace leaves other namespaces, un-namespaced keys, CacheService entries and foreign keys', async () => {
        const users = new Keyv({ store: store(), namespace: 'users' });
        const orders = new Keyv({ store: store(), namespace: 'orders' });
        const plain = new Keyv({ store: store(), namespace: undefined, useKeyPrefix: false });
        const prefixOfUsers = new Keyv({ store: store(), namespace: 'use' });
        const cache = app.get(CacheService);
        for (let i = 0; i < 20; i++) {
          await users.set(`k${i}`, `u${i}`);
          await orders.set(`k${i}`, `o${i}`);
          await plain.set(`k${i}`, `p${i}`);
          await prefixOfUsers.set(`k${i}`, `s${i}`);
        }
        await cache.set('entry', { kept: true });
        await running.observer.set(`${prefix}foreign`, 'x');
        await running.observer.set(`${prefix}cache:kv:users`, 'not a namespace member');
        const other = uniqueKeyPrefix('keyv-other');
        await running.observer.set(`${other}cache:kv:users:users:k1`, 'another app');

        await users.clear();

        for (let i = 0; i < 20; i++) {
          expect(await users.get(`k${i}`)).toBeUndefined();
          expect(await orders.get(`k${i}`)).toBe(`o${i}`);
          expect(await plain.get(`k${i}`)).toBe(`p${i}`);
          expect(await prefixOfUsers.get(`k${i}`)).toBe(`s${i}`);
        }
        expect(await cache.get('entry')).toEqual({ kept: true });
        expect(await running.observer.get(`${prefix}foreign`)).toBe('x');
        expect(await running.observer.get(`${prefix}cache:kv:users`)).toBe('not a namespace member');
        expect(await running.observer.get(`${other}cache:kv:users:users:k1`)).toBe('another app');
        await running.observer.unlink(`${other}cache:kv:users:users:k1`);

        await plain.clear();
        expect(await plain.get('k1')).toBeUndefined();
        expect(await orders.get('k1')).toBe('o1');
      });

      it('namespaces holding ":" or "%" never share keys ("a" + "b:c" vs "a:b" + "c")', async () => {
        const a = new Keyv({ store: store(), namespace: 'a', useKeyPrefix: false });
        const ab = new Keyv({ store: store(), namespace: 'a:b', useKeyPrefix: false });
        const pct = new Keyv({ store: store(), namespace: 'a%3Ab', useKeyPrefix: false });
        await a.set('b:c', 'in a');
        await ab.set('c', 'in a:b');
        await pct.set('c', 'in a%3Ab');
        expect(await a.get('b:c')).toBe('in a');
        expect(await ab.get('c')).toBe('in a:b');
        expect(await pct.get('c')).toBe('in a%3Ab');
        await ab.clear();
        expect(await a.get('b:c')).toBe('in a');
        expect(await pct.get('c')).toBe('in a%3Ab');
      });

      it('iterator() yields exactly the entries of its namespace, from every master', async () => {
        const users = new Keyv({ store: store(), namespace: 'users' });
        const orders = new Keyv({ store: store(), namespace: 'orders' });
        const expected = new Map<string, string>();
        for (let i = 0; i < 60; i++) {
          expected.set(`u${i}`, `value ${i}`);
          await users.set(`u${i}`, `value ${i}`);
          await orders.set(`o${i}`, `order ${i}`);
        }
        const seen = new Map<string, unknown>();
        for await (const [key, value] of users.iterator!(undefined)) seen.set(key as string, value);
        expect(seen).toEqual(expected);
        // On Cluster the namespace is spread over every master, so the iterator must have visited all of them.
        let holders = 0;
        for (const node of running.masterClients()) {
          const [, keys] = await node.scan('0', 'MATCH', `${prefix}cache:kv:users:*`, 'COUNT', 1000);
          if (keys.length > 0) holders++;
        }
        expect(holders).toBe(topology.masters);
      });

      it('getMany / setMany / hasMany / deleteMany work across hash slots and keep the order of the keys', async () => {
        const keyv = new Keyv({ store: store(), namespace: 'batch' });
        const keys = Array.from({ length: 40 }, (_x, i) => `key-${i}`);
        const results = await keyv.setMany(
          keys.map((key, i) => ({ key, value: { i }, ttl: i % 2 ? 60_000 : undefined })),
        );
        expect(results).toEqual(keys.map(() => true));
        expect(await keyv.getMany([...keys, 'absent'])).toEqual([...keys.map((_k, i) => ({ i })), undefined]);
        expect(await keyv.hasMany(['key-3', 'absent', 'key-0'])).toEqual([true, false, true]);
        const pttl = await running.observer.pttl(`${prefix}cache:kv:batch:batch:key-1`);
        expect(pttl).toBeGreaterThan(0);
        expect(await running.observer.pttl(`${prefix}cache:kv:batch:batch:key-0`)).toBe(-1);
        expect(await keyv.deleteMany(keys.slice(0, 20))).toBe(true);
        expect(await keyv.hasMany(['key-0', 'key-19', 'key-20'])).toEqual([false, false, true]);
        expect(await keyv.deleteMany(['absent', 'key-0'])).toBe(false);
      });
    });
  });
}

conformance(singleNode);
conformance(redisCluster);
