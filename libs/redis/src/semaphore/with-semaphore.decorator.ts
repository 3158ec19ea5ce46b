import { RedisOptionsError } from '../errors/redis-options.error.js';
import { createMethodDecorator } from '../method-decorators/create-method-decorator.js';
import { LOCK_DEFAULTS } from '../lock/resolve-lock-options.js';
import { resolveSemaphoreOptions } from './resolve-semaphore-options.js';
import { WITH_SEMAPHORE_METADATA } from './semaphore.constants.js';
import type { WithSemaphoreOptions } from './semaphore-options.interface.js';

/** Checks `@WithSemaphore` options when the class is defined, so a typo fails at startup rather than on first call. */
function validateWithSemaphoreOptions(options: WithSemaphoreOptions, where: string): void {
  const path = `@WithSemaphore on ${where}`;
  if (typeof options !== 'object' || options === null) {
    throw new RedisOptionsError(`Invalid ${path}: expected an options object with "key" and "permits".`, path);
  }
  const { key, ...rest } = options;
  if (!(typeof key === 'function' || (typeof key === 'string' && key.length > 0))) {
    throw new RedisOptionsError(
      `Invalid ${path}.key: expected a non-empty string or a function of the arguments returning one.`,
      `${path}.key`,
    );
  }
  if ('signal' in rest)
    throw new RedisOptionsError(`Invalid ${path}.signal: not a decorator option.`, `${path}.signal`);
  resolveSemaphoreOptions(rest, path, LOCK_DEFAULTS);
}

const withSemaphore = createMethodDecorator<WithSemaphoreOptions>(
  WITH_SEMAPHORE_METADATA,
  '@WithSemaphore',
  validateWithSemaphoreOptions,
);

/**
 * Runs the method holding one permit of the semaphore `key` (at most `permits` calls at once across every
 * process) and releases it afterwards, also when the method throws. The method then always returns a Promise.
 *
 * - No permit within `waitTimeout` (all taken, Redis down) → rejects with `SemaphoreNotAcquiredError`; the method
 *   does not run (fails closed).
 * - If the permit was lost before the method settled, the call rejects with `LockLostError`.
 * - Needs `RedisSemaphoreModule` imported next to `RedisModule`.
 *
 * @param options `key` (string or function of the arguments), `permits`, and per-method `ttl`, `waitTimeout`,
 *   `autoExtend`, `maxHoldTime`, `retryDelay`, `retryJitter` (module `lock` defaults otherwise)
 * @example
 * ```ts
 * @Injectable()
 * export class PaymentsClient {
 *   @WithSemaphore({ key: 'payment-provider', permits: 3, waitTimeout: 2_000 })
 *   async charge(order: Order): Promise<Receipt> {
 *     return this.http.post('/charges', order);
 *   }
 * }
 * ```
 */
export const WithSemaphore = (options: WithSemaphoreOptions): MethodDecorator => withSemaphore(options);
