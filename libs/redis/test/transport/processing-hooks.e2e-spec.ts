import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, type INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type BaseRpcContext, Ctx, EventPattern, MessagePattern, Payload, Transport } from '@nestjs/microservices';
import { randomBytes } from 'node:crypto';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { RedisTransportClient, RedisTransportServer } from '@app/redis/transport';
import { REDIS_URL, eventually, uniqueKeyPrefix, useRedisClient } from '@test/harness';

const ns = `t-hooks-${randomBytes(4).toString('hex')}`;
const keyPrefix = uniqueKeyPrefix('transport-hooks');
useRedisClient({ deleteKeysUnder: keyPrefix });
const seen: Array<{ what: string; metadata: unknown }> = [];

@Controller()
class HookedController {
  @MessagePattern(`${ns}.sum`)
  sum(@Payload() numbers: number[], @Ctx() ctx: BaseRpcContext) {
    seen.push({ what: 'sum', metadata: (ctx as unknown as { getMetadata(): unknown }).getMetadata() });
    return numbers.reduce((a, b) => a + b, 0);
  }

  @EventPattern<string>(`${ns}.created`)
  created(@Payload() data: { id: number }, @Ctx() ctx: BaseRpcContext) {
    seen.push({ what: `created ${data.id}`, metadata: (ctx as unknown as { getMetadata(): unknown }).getMetadata() });
  }
}

@Module({ controllers: [HookedController] })
class HookedModule {}

/**
 * Nest's processing hooks (its tracing entry points) and the client's dispatch hook. The server calls handlers
 * directly when no hook is set, so this proves the hooked path still wraps every handler run.
 */
describe('RedisTransportServer › processing hooks (pub/sub and streams)', () => {
  const hooks: string[] = [];
  const apps: INestMicroservice[] = [];
  const clients: RedisTransportClient[] = [];

  async function serve(server: RedisTransportServer): Promise<void> {
    server.setOnProcessingStartHook((transportId, context, done) => {
      hooks.push(
        `start ${transportId === Transport.REDIS ? 'REDIS' : String(transportId)} ${(context as object).constructor.name}`,
      );
      return done();
    });
    server.setOnProcessingEndHook((_transportId, context) => hooks.push(`end ${(context as object).constructor.name}`));
    const app = await NestFactory.createMicroservice(HookedModule, { strategy: server, logger: false });
    await app.listen();
    apps.push(app);
  }

  function client(mode: 'pubsub' | 'streams'): RedisTransportClient {
    const created = new RedisTransportClient({ url: REDIS_URL, keyPrefix, mode, sendTimeout: 2_000 });
    created.setOnDispatchHook((packet) => (packet.metadata = { traceId: 'trace-1' }));
    clients.push(created);
    return created;
  }

  beforeAll(async () => {
    await serve(new RedisTransportServer({ url: REDIS_URL, keyPrefix }));
    await serve(
      new RedisTransportServer({
        url: REDIS_URL,
        keyPrefix,
        mode: 'streams',
        streams: { group: 'hooks', blockTime: 100 },
      }),
    );
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(apps.map((a) => a.close()));
  });

  it('runs the start and end hooks around a request and passes the dispatch hook metadata', async () => {
    hooks.length = 0;
    seen.length = 0;
    // Both servers (pub/sub and streams mode) answer requests over pub/sub: the first reply wins.
    await expect(firstValueFrom(client('pubsub').send(`${ns}.sum`, [1, 2]))).resolves.toBe(3);
    expect(await eventually(() => hooks.filter((h) => h.startsWith('end')).length === 2, 2_000)).toBe(true);
    expect(hooks[0]).toBe('start REDIS RedisPubSubContext');
    expect(hooks).toContain('end RedisPubSubContext');
    expect(seen[0]).toEqual({ what: 'sum', metadata: { traceId: 'trace-1' } });
  });

  it('runs them around a streams event too', async () => {
    hooks.length = 0;
    seen.length = 0;
    await lastValueFrom(client('streams').emit(`${ns}.created`, { id: 7 }));
    expect(await eventually(() => hooks.includes('end RedisStreamsContext'), 5_000)).toBe(true);
    expect(hooks).toEqual(['start REDIS RedisStreamsContext', 'end RedisStreamsContext']);
    expect(seen).toEqual([{ what: 'created 7', metadata: { traceId: 'trace-1' } }]);
  });
});
