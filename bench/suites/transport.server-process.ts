/**
 * Child process of the `transport` bench: serves the same two handlers over Nest's built-in `ServerRedis`, our
 * pub/sub `RedisTransportServer` and our streams `RedisTransportServer`, each under its own pattern namespace. Event
 * handlers acknowledge each event by publishing its sequence number on `<prefix>ack` (same cost for every
 * contender), so the bench process can time emit → handler. Prints "ready" once they listen; exits on SIGTERM.
 *
 * argv: redisUrl prefix [servers], servers a comma-separated subset of `builtin,ours,streams` (default: all three;
 * `bench/profile-transport.ts` runs one at a time, so a profile or a Redis counter holds one server's work only)
 */
import 'reflect-metadata';
import { Controller, type INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, MessagePattern, Payload, ServerRedis } from '@nestjs/microservices';
import { Redis } from 'ioredis';
import { RedisTransportServer } from '@app/redis/transport';

const [redisUrl, prefix, only = 'builtin,ours,streams'] = process.argv.slice(2);
const selected = new Set(only.split(','));
const { hostname, port } = new URL(redisUrl);
const ack = new Redis(redisUrl, { enableAutoPipelining: true });

function benchController(ns: string) {
  @Controller()
  class BenchController {
    @EventPattern(`${ns}.evt`)
    onEvent(@Payload() data: unknown) {
      void ack.publish(`${prefix}ack`, String((data as { seq: number }).seq));
    }

    @MessagePattern(`${ns}.sum`)
    sum(@Payload() data: unknown) {
      const [a, b] = data as [number, number];
      return a + b;
    }
  }
  return BenchController;
}

async function serve(ns: string, strategy: ServerRedis | RedisTransportServer): Promise<INestMicroservice> {
  @Module({ controllers: [benchController(ns)] })
  class BenchModule {}
  const app = await NestFactory.createMicroservice(BenchModule, { strategy, logger: ['error', 'warn'] });
  await app.listen();
  return app;
}

const apps: INestMicroservice[] = [];
if (selected.has('builtin')) {
  apps.push(await serve('builtin', new ServerRedis({ host: hostname, port: Number(port || 6379) })));
}
if (selected.has('ours')) {
  apps.push(await serve('ours', new RedisTransportServer({ url: redisUrl, channelPrefix: prefix })));
}
if (selected.has('streams')) {
  apps.push(
    await serve(
      'streams',
      new RedisTransportServer({
        url: redisUrl,
        keyPrefix: prefix,
        mode: 'streams',
        streams: { group: 'bench', concurrency: 64 },
      }),
    ),
  );
}
process.once('SIGTERM', () => {
  void Promise.all(apps.map((app) => app.close())).finally(() => {
    ack.disconnect();
    process.exit(0);
  });
});
process.stdout.write('ready\n');
