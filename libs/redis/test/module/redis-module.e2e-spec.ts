import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import type { INestApplicationContext } from '@nestjs/common';
import { InjectRedis, RedisKeyspace, RedisModule, getRedisConnectionToken, type RedisClient } from '@app/redis';
import { RedisConnectionsRegistry } from '../../src/connection/redis-connections.registry.js';
import { REDIS_URL, bootstrapTestingApp, uniqueKeyPrefix, useRedisClient } from '@test/harness';

const prefix = uniqueKeyPrefix('redis-module');
const observer = useRedisClient({ deleteKeysUnder: prefix });

@Injectable()
class GreetingStore {
  constructor(
    @InjectRedis() readonly redis: RedisClient,
    @InjectRedis('secondary') readonly secondary: RedisClient,
    readonly keyspace: RedisKeyspace,
  ) {}

  async save(name: string, text: string): Promise<void> {
    await this.redis.set(this.keyspace.key('greeting', name), text);
  }

  read(name: string): Promise<string | null> {
    return this.redis.get(this.keyspace.key('greeting', name));
  }
}

@Module({ providers: [GreetingStore], exports: [GreetingStore] })
class GreetingModule {}

const CONFIG = 'TEST_CONFIG';
@Module({ providers: [{ provide: CONFIG, useValue: { url: REDIS_URL, prefix } }], exports: [CONFIG] })
class TestConfigModule {}

describe('RedisModule', () => {
  let app: INestApplicationContext | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('forRoot boots, reaches Redis and injects the client into a feature module (global by default)', async () => {
    app = await bootstrapTestingApp([
      RedisModule.forRoot({ url: REDIS_URL, keyPrefix: prefix, connections: { secondary: { url: REDIS_URL } } }),
      GreetingModule,
    ]);
    const store = app.get(GreetingStore);
    expect(await store.redis.ping()).toBe('PONG');
    await store.save('forRoot', 'hello');
    expect(await observer.get(`${prefix}greeting:forRoot`)).toBe('hello');
    expect(await store.read('forRoot')).toBe('hello');
  });

  it('runs on the ioredis major under test (RESP2 with ioredis 5, RESP3 with the ioredis 6 smoke run)', async () => {
    app = await bootstrapTestingApp([RedisModule.forRoot({ url: REDIS_URL, connections: { secondary: {} } })]);
    const expected = (globalThis as { EXPECTED_RESP_PROTOCOL?: number }).EXPECTED_RESP_PROTOCOL ?? 2;
    const info = (await app.get<RedisClient>(getRedisConnectionToken()).client('INFO')) as string;
    expect(info).toContain(`resp=${expected}`);
  });

  it('forRootAsync takes its options from an injected provider', async () => {
    app = await bootstrapTestingApp([
      RedisModule.forRootAsync({
        imports: [TestConfigModule],
        inject: [CONFIG],
        useFactory: (config: { url: string; prefix: string }) => ({
          url: config.url,
          keyPrefix: `${config.prefix}async:`,
          connections: { secondary: { url: config.url, redisOptions: { db: 1 } } },
        }),
        connectionNames: ['secondary'],
      }),
      GreetingModule,
    ]);
    const store = app.get(GreetingStore);
    await store.save('forRootAsync', 'hi');
    expect(await observer.get(`${prefix}async:greeting:forRootAsync`)).toBe('hi');
    expect((await store.secondary.client('INFO')) as string).toMatch(/db=1/);
  });

  it('gives each named connection its own client, and the same client to every injection point', async () => {
    app = await bootstrapTestingApp([
      RedisModule.forRoot({ url: REDIS_URL, keyPrefix: prefix, connections: { secondary: { url: REDIS_URL } } }),
      GreetingModule,
    ]);
    const store = app.get(GreetingStore);
    expect(store.secondary).not.toBe(store.redis);
    expect(app.get(getRedisConnectionToken())).toBe(store.redis);
    expect(app.get(getRedisConnectionToken('secondary'))).toBe(store.secondary);
    expect(await store.secondary.client('GETNAME')).toBe('nest-redis:secondary');
  });

  it('applies keyPrefix, so two apps sharing one Redis do not see each other’s keys', async () => {
    const appA = await bootstrapTestingApp([
      RedisModule.forRoot({ url: REDIS_URL, keyPrefix: `${prefix}a:`, connections: { secondary: {} } }),
      GreetingModule,
    ]);
    const appB = await bootstrapTestingApp([
      RedisModule.forRoot({ url: REDIS_URL, keyPrefix: `${prefix}b:`, connections: { secondary: {} } }),
      GreetingModule,
    ]);
    try {
      await appA.get(GreetingStore).save('shared-name', 'from A');
      await appB.get(GreetingStore).save('shared-name', 'from B');
      expect(await appA.get(GreetingStore).read('shared-name')).toBe('from A');
      expect(await appB.get(GreetingStore).read('shared-name')).toBe('from B');
      expect(await observer.get(`${prefix}a:greeting:shared-name`)).toBe('from A');

      const keyspaceA = appA.get(RedisKeyspace);
      const seen: string[] = [];
      for await (const batch of keyspaceA.scan(appA.get(GreetingStore).redis)) seen.push(...batch);
      expect(seen).toEqual([`${prefix}a:greeting:shared-name`]);
    } finally {
      await appA.close();
      await appB.close();
    }
  });

  it('creates a subscriber connection only when something asks for one', async () => {
    app = await bootstrapTestingApp([
      RedisModule.forRoot({ url: REDIS_URL, keyPrefix: prefix, clientName: 'lazy-sub' }),
    ]);
    const list = async () =>
      ((await observer.client('LIST')) as string).split('\n').filter((l) => / name=lazy-sub:/.test(l));
    expect(await list()).toHaveLength(1);
    const registry = app.get(RedisConnectionsRegistry);
    // Two capabilities asking at the same moment share one subscriber connection.
    const [subscriber, same] = await Promise.all([
      registry.getSubscriber('default'),
      registry.getSubscriber('default'),
    ]);
    expect(same).toBe(subscriber);
    expect(subscriber).toBe(await registry.getSubscriber('default'));
    expect(await list()).toHaveLength(2);
  });
});
