import { Logger } from '@nestjs/common';
import { WORKER_CONFIG } from './config/worker-config.constants.js';
import type { WorkerConfig } from './config/worker-config.interface.js';
import { createWorker } from './worker.factory.js';

/**
 * Starts booking-worker: the booking-events consumer (Redis Streams) and its HTTP side (health, reports) on
 * `WORKER_PORT`, and logs where it listens (the HTTP address only: no Redis URL, no credentials).
 */
async function bootstrap(): Promise<void> {
  const worker = await createWorker();
  const { port } = worker.get<WorkerConfig>(WORKER_CONFIG);
  await worker.startAllMicroservices();
  await worker.listen(port);
  new Logger('Bootstrap').log(`booking-worker listening on ${await worker.getUrl()}`);
}

await bootstrap();
