import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getRedisConnectionToken, type RedisClient, type RedisModuleOptions } from '@app/redis';
import { WORKER_CONFIG } from '../../src/config/worker-config.constants.js';
import type { WorkerConfig } from '../../src/config/worker-config.interface.js';
import { createManagementServer } from '../../../booking-management/src/index.js';
import { configureWorker } from '../../src/worker.factory.js';

/** The `NOTIFICATIONS_TOKEN` of the workers tests boot. */
export const TEST_NOTIFICATIONS_TOKEN = 'test-notifications-token-0123456789abcdef';
import { WorkerModule } from '../../src/worker.module.js';
import { deleteKeysWithPrefix } from '@test/harness';

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
  const config: WorkerConfig = {
    port: 0,
    managementPort: 0,
    workerId: `test-worker:${process.pid}`,
    notificationsToken: TEST_NOTIFICATIONS_TOKEN,
    redis,
  };
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

const managementServers = new WeakMap<INestApplication, Server>();

/** The worker's management side (`/metrics`, health details), not listening: hand it to supertest. */
export function managementOf(worker: INestApplication): Server {
  let server = managementServers.get(worker);
  if (!server) {
    server = createManagementServer(worker);
    managementServers.set(worker, server);
  }
  return server;
}
