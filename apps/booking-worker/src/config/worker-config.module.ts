import { Module } from '@nestjs/common';
import { loadWorkerConfig } from './load-worker-config.js';
import { WORKER_CONFIG } from './worker-config.constants.js';

/**
 * Provides {@link WORKER_CONFIG}, read from `process.env` when the container is built (not at import time), so a
 * test can set variables or override the provider before compiling the module.
 */
@Module({
  providers: [{ provide: WORKER_CONFIG, useFactory: () => loadWorkerConfig(process.env) }],
  exports: [WORKER_CONFIG],
})
export class WorkerConfigModule {}
