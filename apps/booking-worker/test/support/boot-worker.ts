import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getRedisConnectionToken, type RedisClient, type RedisModuleOptions } from '@app/redis';
import { WORKER_CONFIG } from '../../src/config/worker-config.constants.js';
import type { WorkerConfig } from '../../src/config/worker-config.interface.js';
import { configureWorker } from '../../src/worker.factory.js';
import { WorkerModule } from '../../src/worker.module.js';
import { deleteKeysWithPrefix } from '../../../../test/harness/key-prefix.js';

/**
 * The real WorkerModule with only its configuration (and `overrides`) replaced, configured as `main.ts` does; the
 * stream consumer runs when `consume` is true (it needs a reachable Redis).
 */
export async function bootWorker(
  redis: RedisModuleOptions,
  {
    consume = false,
    overrides = [],
  }: { consume?: boolean; overrides?: Array<{ provide: unknown; useValue: unknown }> } = {},
): Promise<INestApplication> {
  const config: WorkerConfig = { port: 0, redis };
  let builder = Test.createTestingModule({ imports: [WorkerModule] })
    .overrideProvider(WORKER_CONFIG)
    .useValue(config);
  for (const override of overrides) builder = builder.overrideProvider(override.provide).useValue(override.useValue);
  const moduleRef = await builder.compile();
  const worker = configureWorker(moduleRef.createNestApplication({ logger: false }));
  if (consume) await worker.startAllMicroservices();
  return worker.init();
}

/** Deletes the worker's Redis keys and closes it; safe to call when booting failed. */
export async function closeWorker(worker: INestApplication | undefined, keyPrefix: string): Promise<void> {
  if (!worker) return;
  await deleteKeysWithPrefix(worker.get<RedisClient>(getRedisConnectionToken()), keyPrefix).catch(() => undefined);
  await worker.close();
}
