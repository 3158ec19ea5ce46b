import type { INestApplication, NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RedisTransportServer } from '@app/redis/transport';
import { managementOnly } from '../../booking-management/src/index.js';
import { WorkerModule } from './worker.module.js';

/** Paths served on the management port only (`WORKER_MANAGEMENT_PORT`): the Prometheus scrape. */
export const MANAGEMENT_ONLY_PATHS = ['/metrics'] as const;

export { BOOKING_WORKER_GROUP } from './booking-events/booking-events.server.js';

/**
 * Applies the settings every booking-worker instance needs, whether `main.ts` created it or a test did with
 * `Test.createTestingModule({ imports: [WorkerModule] }).compile()` and `createNestApplication()`: shutdown hooks,
 * `/metrics` on the management port only (404 on the public one, see `createManagementServer`), and the Redis transport in streams mode on the `RedisModule` connection and key prefix (the server provided by
 * `BookingEventsModule`; start it with `startAllMicroservices()`).
 *
 * @param app an application that has not been initialised yet
 */
export function configureWorker<App extends INestApplication>(app: App): App {
  // SIGTERM from Docker or Kubernetes then closes the app: the transport stops reading, lets the handlers in
  // flight finish, and Redis connections are QUIT, not dropped.
  app.enableShutdownHooks();
  app.use(managementOnly(MANAGEMENT_ONLY_PATHS));
  app.connectMicroservice({ strategy: app.get(RedisTransportServer) }, { inheritAppConfig: true });
  return app;
}

/**
 * Creates and configures booking-worker without listening, so `main.ts` and tests build the same application.
 *
 * @param options Nest application options (a test passes `{ logger: false }`)
 * @example
 * ```ts
 * const worker = await createWorker();
 * await worker.startAllMicroservices();
 * await worker.listen(3001);
 * ```
 */
export async function createWorker(options?: NestApplicationOptions): Promise<INestApplication> {
  return configureWorker(await NestFactory.create(WorkerModule, options));
}
