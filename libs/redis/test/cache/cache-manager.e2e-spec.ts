import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CACHE_MANAGER, CacheInterceptor, CacheKey, CacheTTL, Cache as NestCache } from '@nestjs/cache-manager';
import {
  Controller,
  Get,
  Inject,
  Injectable,
  type INestApplication,
  Module,
  Param,
  UseInterceptors,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { createCache, KeyvAdapter, type Cache, type CacheManagerStore } from 'cache-manager';
import { redisInsStore } from 'cache-manager-ioredis-yet';
import { Keyv } from 'keyv';
import { Redis } from 'ioredis';
import request from 'supertest';
import { CacheService, RedisModule, getRedisConnectionToken, type RedisClient } from '@app/redis';
import { REDIS_URL, RedisServerProcess, silentLogger, uniqueKeyPrefix, useRedisClient } from '@test/harness';

/** cache-manager-ioredis-yet is typed against cache-manager 5; cache-manager 7's KeyvAdapter runs it as is. */
function legacyStore(store: unknown): CacheManagerStore {
  return store as CacheManagerStore;
}

const prefix = uniqueKeyPrefix('cache-manager');
const observer = useRedisClient({ deleteKeysUnder: prefix });

@Controller('venues')
@UseInterceptors(CacheInterceptor)
class VenuesController {
  calls = 0;

  @Get(':id')
  venue(@Param('id') id: string) {
    this.calls++;
    return { id, name: `Venue ${id}`, calls: this.calls };
  }

  @Get('keyed/:id')
  @CacheKey('venue-fixed')
  @CacheTTL(1_000)
  keyed(@Param('id') id: string) {
    this.calls++;
    return { id };
  }
}

@Controller('manual')
class ManualController {
  constructor(@Inject(CACHE_MANAGER) readonly cacheManager: Cache) {}
}

/** Injects by type alone, as Nest's caching docs show (`Cache` of @nestjs/cache-manager as the token). */
@Injectable()
class TypedCacheUser {
  constructor(readonly cache: NestCache) {}
}

@Module({ controllers: [VenuesController, ManualController], providers: [TypedCacheUser] })
class VenuesModule {}

describe('CACHE_MANAGER served by RedisModule (cache-manager 7 + Keyv over the shared client)', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [RedisModule.forRoot({ url: REDIS_URL, keyPrefix: prefix, cache: { ttl: 10_000 } }), VenuesModule],
    })
      .setLogger(silentLogger)
      .compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
  });

  it('CacheInterceptor serves the second GET from Redis, under <prefix>cache:cm:<url>', async () => {
    const first = await request(app.getHttpServer()).get('/venues/9').expect(200);
    expect(first.body).toEqual({ id: '9', name: 'Venue 9', calls: 1 });
    expect(first.headers['x-cache']).toBe('MISS');
    const second = await request(app.getHttpServer()).get('/venues/9').expect(200);
    expect(second.body).toEqual({ id: '9', name: 'Venue 9', calls: 1 });
    expect(second.headers['x-cache']).toBe('HIT');
    expect(await observer.exists(`${prefix}cache:cm:/venues/9`)).toBe(1);
    const ttl = await observer.pttl(`${prefix}cache:cm:/venues/9`);
    expect(ttl).toBeGreaterThan(9_000);
  });

  it('@CacheKey and @CacheTTL are honoured', async () => {
    await request(app.getHttpServer()).get('/venues/keyed/1').expect(200, { id: '1' });
    await request(app.getHttpServer()).get('/venues/keyed/2').expect(200, { id: '1' });
    const ttl = await observer.pttl(`${prefix}cache:cm:venue-fixed`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1_000);
  });

  it('@Inject(CACHE_MANAGER) gets, sets and deletes on the same connection and prefix', async () => {
    const cacheManager = app.get(ManualController).cacheManager;
    await cacheManager.set('manual', { at: 1 }, 5_000);
    expect(await cacheManager.get('manual')).toEqual({ at: 1 });
    expect(await observer.exists(`${prefix}cache:cm:manual`)).toBe(1);
    await cacheManager.del('manual');
    expect(await cacheManager.get('manual')).toBeUndefined();
  });

  it('`constructor(private cache: Cache)` gets the same cache manager as CACHE_MANAGER, writing to Redis', async () => {
    const { cache } = app.get(TypedCacheUser);
    expect(cache).toBe(app.get(CACHE_MANAGER));
    expect(app.get(NestCache)).toBe(app.get(CACHE_MANAGER));
    await cache.set('typed', 'by-class', 5_000);
    expect(await app.get(ManualController).cacheManager.get('typed')).toBe('by-class');
    expect(await observer.exists(`${prefix}cache:cm:typed`)).toBe(1);
  });

  it('clear() removes only CACHE_MANAGER keys of this namespace; disconnect() leaves the shared client open', async () => {
    const cacheManager = app.get(ManualController).cacheManager;
    await cacheManager.set('a', 1);
    await app.get(CacheService).set('decorator-entry', 1);
    await observer.set(`${prefix}other`, 'keep');
    await cacheManager.clear();
    expect(await cacheManager.get('a')).toBeUndefined();
    expect(await app.get(CacheService).get('decorator-entry')).toBe(1);
    expect(await observer.get(`${prefix}other`)).toBe('keep');

    await cacheManager.disconnect();
    const client = app.get<RedisClient>(getRedisConnectionToken());
    expect(client.status).toBe('ready');
    expect(await client.ping()).toBe('PONG');
  });
});

describe('the Cache alias with a non-global RedisModule (isGlobal: false)', () => {
  it('boots, serves CACHE_MANAGER to the importing module and leaves the Cache token out', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [RedisModule.forRoot({ url: REDIS_URL, keyPrefix: `${prefix}local:`, isGlobal: false })],
    })
      .setLogger(silentLogger)
      .compile();
    const app = moduleRef.createNestApplication({ logger: false });
    try {
      await app.init();
      expect(app.get(CACHE_MANAGER)).toBeTruthy();
      expect(() => app.get(NestCache)).toThrow();
    } finally {
      await app.close();
    }
  });
});

describe('cache-manager-ioredis-yet, checked against a throwaway Redis (why we do not use it)', () => {
  let server: RedisServerProcess;

  beforeAll(async () => {
    server = await RedisServerProcess.start();
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('its clear() runs FLUSHDB and wipes another application’s keys; ours keeps them', async () => {
    const client = new Redis(server.url);
    try {
      await client.set('another-app:session', 'precious');
      const theirs = createCache({
        stores: [new Keyv({ store: new KeyvAdapter(legacyStore(redisInsStore(client))) })],
      });
      await theirs.set('k', 'v');
      await theirs.clear();
      expect(await client.get('another-app:session')).toBeNull();

      await client.set('another-app:session', 'precious');
      const moduleRef = await Test.createTestingModule({
        imports: [RedisModule.forRoot({ url: server.url, keyPrefix: 'ours:' })],
      })
        .setLogger(silentLogger)
        .compile();
      const ours = await moduleRef.init();
      try {
        const cacheManager = ours.get<Cache>(CACHE_MANAGER);
        await cacheManager.set('k', 'v');
        await cacheManager.clear();
        expect(await client.get('another-app:session')).toBe('precious');
        expect(await client.exists('ours:cache:cm:k')).toBe(0);
      } finally {
        await ours.close();
      }
    } finally {
      await client.quit();
    }
  });
});
