import { getRedisConnectionToken, type RedisClient, RedisModule } from '@app/redis';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { deleteBenchKeys, uniqueBenchPrefix } from '../harness/bench-keyspace.js';
import type { BenchCase, BenchSuite } from '../harness/bench-suite.interface.js';

/** Keys cycled through, so GETs hit and SETs overwrite a bounded set rather than growing Redis. */
const KEY_COUNT = 1_000;
/** A small cache-entry-sized payload; the comparison is about per-command overhead, not bandwidth. */
const VALUE = 'v'.repeat(100);
const IN_FLIGHT = 100;

interface Contender {
  name: string;
  client: RedisClient;
  anchor: boolean;
}

function baselineCases(contenders: Contender[], keys: string[]): BenchCase[] {
  const commands: Array<{ command: string; op: (client: RedisClient, key: string) => Promise<unknown> }> = [
    { command: 'GET', op: (client, key) => client.get(key) },
    { command: 'SET', op: (client, key) => client.set(key, VALUE) },
  ];
  const modes = [
    { label: 'sequential', concurrency: 1 },
    { label: `${IN_FLIGHT} in flight`, concurrency: IN_FLIGHT },
  ];
  return commands.flatMap(({ command, op }) =>
    modes.flatMap(({ label, concurrency }) =>
      contenders.map(({ name, client, anchor }) => ({
        name,
        group: `${command} · ${label}`,
        anchor,
        concurrency,
        run: (i: number) => op(client, keys[i % KEY_COUNT]),
      })),
    ),
  );
}

/**
 * Raw GET and SET through a plain ioredis client (the anchor) and through the client `RedisModule` provides, one
 * at a time and 100 in flight. Both talk to the same Redis with the same keys and payload, so `× anchor` shows
 * what the module adds per command: it should stay ≈ 1.00, since the module hands out an unwrapped ioredis client.
 */
export const redisBaselineSuite: BenchSuite = {
  description: 'raw ioredis GET/SET, plain new Redis() (anchor) vs the RedisModule client',

  async setup({ redisUrl, log }) {
    const prefix = uniqueBenchPrefix('redis-baseline');
    const keys = Array.from({ length: KEY_COUNT }, (_, i) => `${prefix}key:${i}`);
    const plain = new Redis(redisUrl);
    let app: INestApplicationContext | undefined;

    const teardown = async (): Promise<void> => {
      try {
        if (plain.status === 'ready') log(`Deleted ${await deleteBenchKeys(plain, prefix)} keys under ${prefix}`);
      } finally {
        await Promise.allSettled([plain.status === 'ready' ? plain.quit() : plain.disconnect(), app?.close()]);
      }
    };

    try {
      await plain.ping();
      // Booted the way an application would be: a root module importing RedisModule.forRoot.
      app = await NestFactory.createApplicationContext(
        { imports: [RedisModule.forRoot({ url: redisUrl, keyPrefix: prefix })] },
        { logger: false },
      );
      const ours = app.get<RedisClient>(getRedisConnectionToken());
      const seed = plain.pipeline();
      for (const key of keys) seed.set(key, VALUE);
      await seed.exec();
      log(`Seeded ${KEY_COUNT} keys under ${prefix}`);
      const cases = baselineCases(
        [
          { name: 'ioredis (new Redis)', client: plain, anchor: true },
          { name: 'RedisModule client', client: ours, anchor: false },
        ],
        keys,
      );
      return { cases, teardown };
    } catch (error) {
      await teardown();
      throw error;
    }
  },
};
