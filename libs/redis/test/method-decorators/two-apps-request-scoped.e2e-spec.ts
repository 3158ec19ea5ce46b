import { describe, expect, it } from '@jest/globals';
import { Injectable, Module, Scope, type INestApplicationContext } from '@nestjs/common';
import { ContextIdFactory } from '@nestjs/core';
import { Cacheable, RedisModule } from '@app/redis';
import { REDIS_URL, uniqueKeyPrefix, useTestApps } from '@test/harness';

const prefix = uniqueKeyPrefix('two-apps-request-scoped');
const prefixA = `${prefix}a:`;
const prefixB = `${prefix}b:`;

/** One request-scoped class shared by both applications, as a test process with two apps has. */
@Injectable({ scope: Scope.REQUEST })
class VenueLookup {
  static loads = 0;

  @Cacheable({ key: 'venue' })
  async venue(): Promise<number> {
    return ++VenueLookup.loads;
  }
}

/** A transient class injected into a singleton: Nest creates its instance at startup, one per application. */
@Injectable({ scope: Scope.TRANSIENT })
class SeatCounter {
  @Cacheable({ key: 'seats' })
  async seats(): Promise<number> {
    return 40;
  }
}

@Injectable()
class SeatReport {
  constructor(readonly counter: SeatCounter) {}
}

/** Built by a request-scoped factory: the decorated class is only known from the instance. */
class RoomLookup {
  @Cacheable({ key: 'rooms' })
  async rooms(): Promise<string[]> {
    return ['hall'];
  }
}

@Module({
  providers: [
    VenueLookup,
    SeatCounter,
    SeatReport,
    { provide: 'ROOMS', scope: Scope.REQUEST, useFactory: () => new RoomLookup() },
  ],
})
class VenueModule {}

/** Resolves a fresh request-scoped instance in `app` (a new request context each time). */
const freshInstance = (app: INestApplicationContext): Promise<VenueLookup> =>
  app.resolve(VenueLookup, ContextIdFactory.create());

describe('Two applications in one process with the same request-scoped @Cacheable provider', () => {
  const apps = useTestApps(prefix);

  const bootBoth = async (): Promise<[INestApplicationContext, INestApplicationContext]> => [
    await apps.boot([RedisModule.forRoot({ url: REDIS_URL, keyPrefix: prefixA }), VenueModule]),
    await apps.boot([RedisModule.forRoot({ url: REDIS_URL, keyPrefix: prefixB }), VenueModule]),
  ];

  it('each application’s instance caches under its own key prefix while both are alive', async () => {
    const [appA, appB] = await bootBoth();
    await (await freshInstance(appA)).venue();
    expect(await apps.redis.exists(`${prefixA}cache:{venue}`)).toBe(1);
    expect(await apps.redis.exists(`${prefixB}cache:{venue}`)).toBe(0);
    await (await freshInstance(appB)).venue();
    expect(await apps.redis.exists(`${prefixB}cache:{venue}`)).toBe(1);
    await apps.redis.unlink(`${prefixA}cache:{venue}`, `${prefixB}cache:{venue}`);
  });

  it('new instances of the first application keep working after the second one closes', async () => {
    const [appA, appB] = await bootBoth();
    await appB.close();
    const instance = await freshInstance(appA);
    const loadsBefore = VenueLookup.loads;
    expect(await instance.venue()).toBe(loadsBefore + 1);
    expect(await apps.redis.exists(`${prefixA}cache:{venue}`)).toBe(1);
    expect(await apps.redis.exists(`${prefixB}cache:{venue}`)).toBe(0);
  });

  it('transient instances injected at startup cache under their own application’s prefix', async () => {
    const [appA, appB] = await bootBoth();
    expect(await appB.get(SeatReport).counter.seats()).toBe(40);
    expect(await apps.redis.exists(`${prefixB}cache:{seats}`)).toBe(1);
    expect(await apps.redis.exists(`${prefixA}cache:{seats}`)).toBe(0);
    expect(await appA.get(SeatReport).counter.seats()).toBe(40);
    expect(await apps.redis.exists(`${prefixA}cache:{seats}`)).toBe(1);
  });

  it('instances built by a request-scoped factory are wrapped by the application that built them', async () => {
    const [appA] = await bootBoth();
    const rooms = await appA.resolve<RoomLookup>('ROOMS', ContextIdFactory.create());
    expect(await rooms.rooms()).toEqual(['hall']);
    expect(await apps.redis.exists(`${prefixA}cache:{rooms}`)).toBe(1);
    expect(await apps.redis.exists(`${prefixB}cache:{rooms}`)).toBe(0);
  });
});
