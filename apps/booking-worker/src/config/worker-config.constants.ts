/** Injection token of the worker's {@link WorkerConfig}; tests replace it with `overrideProvider(WORKER_CONFIG)`. */
export const WORKER_CONFIG = 'booking-worker:config';
