export { RedisSemaphoreModule } from './redis-semaphore.module.js';
export { SemaphoreService, type Permit } from './semaphore.service.js';
export { WithSemaphore } from './with-semaphore.decorator.js';
export type { SemaphoreOptions, WithSemaphoreOptions } from './semaphore-options.interface.js';
export { SemaphoreNotAcquiredError, type SemaphoreNotAcquiredReason } from '../errors/semaphore-not-acquired.error.js';
