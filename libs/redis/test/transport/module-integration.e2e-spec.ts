import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Inject, type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type ClientProxy, ClientsModule, Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { REDIS_MODULE_SETTINGS, RedisInstrumentation, RedisModule, type RedisModuleSettings } from '@app/redis';
import { type RedisStreamsContext, RedisTransportClient, RedisTransportServer } from '@app/redis/transport';
import { REDIS_URL, eventually, silentLogger, uniqueKeyPrefix, useRedisClient } from '@test/harness';

const keyPrefix = uniqueKeyPrefix('transport-module');
const redis = useRedisClient({ deleteKeysUnder: keyPrefix });
const channelPrefix = `${keyPrefix}ch:`;
const seen: Array<{ data: unknown; stream: string }> = [];

@Controller()
class BookingEventsController {
  constructor(
    @Inject('BOOKING_EVENTS') private readonly events: ClientProxy,
    @Inject('BOOKING_RPC') private readonly rpc: ClientProxy,
  ) {}

  @EventPattern<string>('booking.created')
  onCreated(@Payload() data: unknown, @Ctx() ctx: RedisStreamsContext) {
    seen.push({ data, stream: ctx.getStream() });
  }

  @MessagePattern('booking.count')
  count() {
    return seen.length;
  }

  emitCreated(id: number) {
    return lastValueFrom(this.events.emit('booking.created', { id }));
  }

  askCount() {
    return firstValueFrom(this.rpc.send<number>('booking.count', {}));
  }
}

@Module({
  imports: [
    RedisModule.forRoot({ url: REDIS_URL, keyPrefix }),
    ClientsModule.register([
      {
        name: 'BOOKING_EVENTS',
        customClass: RedisTransportClient,
        options: { url: REDIS_URL, keyPrefix, mode: 'streams' },
      },
    ]),
    ClientsModule.registerAsync([
      {
        name: 'BOOKING_RPC',
        inject: [REDIS_MODULE_SETTINGS],
        useFactory: (moduleOptions: RedisModuleSettings) => ({
          customClass: RedisTransportClient,
          options: { moduleOptions, channelPrefix },
        }),
      },
    ]),
  ],
  controllers: [BookingEventsController],
})
class AppModule {}

describe('RedisTransportServer.fromApp + ClientsModule (customClass: RedisTransportClient)', () => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await NestFactory.create(AppModule, { logger: silentLogger });
    app.connectMicroservice(
      { strategy: RedisTransportServer.fromApp(app, { mode: 'streams', channelPrefix, streams: { group: 'api' } }) },
      { inheritAppConfig: true },
    );
    await app.startAllMicroservices();
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
  });

  it('uses the RedisModule connection and keyPrefix: a registered client emits into the stream the server reads', async () => {
    const reported: string[] = [];
    app
      .get(RedisInstrumentation)
      .on('transport.handled', ({ pattern, outcome }) => reported.push(`${pattern}:${outcome}`));
    const controller = app.get(BookingEventsController);
    const id = await controller.emitCreated(42);
    expect(await eventually(() => seen.length === 1)).toBe(true);
    expect(seen[0]).toEqual({ data: { id: 42 }, stream: `${keyPrefix}stream:{booking.created}` });
    expect(await redis.xrange(`${keyPrefix}stream:{booking.created}`, id, id)).toHaveLength(1);
    // fromApp() reports to the module's instrumentation hub (what the /metrics entry point counts).
    expect(await eventually(() => reported.includes('booking.created:ok'))).toBe(true);
  });

  it('a client registered with registerAsync from the module options gets replies', async () => {
    await expect(app.get(BookingEventsController).askCount()).resolves.toBe(1);
  });
});
