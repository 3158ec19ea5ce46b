import { Logger } from '@nestjs/common';
import { createManagementServer, startDemoTracing } from '../../booking-management/src/index.js';
import { WORKER_CONFIG } from './config/worker-config.constants.js';
import type { WorkerConfig } from './config/worker-config.interface.js';
import { createWorker } from './worker.factory.js';

/**
 * Starts booking-worker: the booking-events consumer (Redis Streams), its HTTP side (bare health for probes,
 * reports) on `WORKER_PORT` and its management side (`/metrics`, health details) on `WORKER_MANAGEMENT_PORT`; logs
 * where each listens (HTTP addresses only: no Redis URL, no credentials).
 */
async function bootstrap(): Promise<void> {
  // TRACES_FILE set: spans appended to that file (registered before the app, whose modules read it); else nothing.
  startDemoTracing('booking-worker');
  const worker = await createWorker();
  const { port, managementPort } = worker.get<WorkerConfig>(WORKER_CONFIG);
  await worker.startAllMicroservices();
  await worker.listen(port);
  const management = createManagementServer(worker);
  await new Promise<void>((resolve, reject) => management.once('error', reject).listen(managementPort, resolve));
  const logger = new Logger('Bootstrap');
  logger.log(`booking-worker listening on ${await worker.getUrl()}`);
  logger.log(`booking-worker management (metrics, health details) on port ${managementPort}`);
}

await bootstrap();
