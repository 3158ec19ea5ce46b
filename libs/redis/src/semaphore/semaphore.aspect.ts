import { Injectable } from '@nestjs/common';
import { RedisToolkitError } from '../errors/redis-toolkit.error.js';
import { Aspect } from '../method-decorators/aspect.decorator.js';
import type { AnyMethod, MethodAspect, MethodWrapContext } from '../method-decorators/method-aspect.interface.js';
import { WITH_SEMAPHORE_METADATA } from './semaphore.constants.js';
import { SemaphoreService } from './semaphore.service.js';
import type { WithSemaphoreOptions } from './semaphore-options.interface.js';

/** Code of the error thrown when a `@WithSemaphore` key function throws or returns no name (the method does not run). */
const INVALID_SEMAPHORE_KEY = 'E_INVALID_SEMAPHORE_KEY';

/** The behaviour of `@WithSemaphore`: runs each call under `SemaphoreService.using`. */
@Aspect(WITH_SEMAPHORE_METADATA)
@Injectable()
export class SemaphoreAspect implements MethodAspect<WithSemaphoreOptions> {
  constructor(private readonly semaphores: SemaphoreService) {}

  wrap({ instance, target, methodName, method, options }: MethodWrapContext<WithSemaphoreOptions>): AnyMethod {
    const semaphores = this.semaphores;
    const { key, ...semaphoreOptions } = options;
    const keyOf = typeof key === 'function' ? (key as (...args: unknown[]) => unknown) : () => key;
    const where = `${target.name}.${methodName}()`;
    return async function withSemaphore(this: unknown, ...args: unknown[]): Promise<unknown> {
      let name: unknown;
      try {
        name = keyOf(...args);
      } catch (error) {
        throw new RedisToolkitError(
          `@WithSemaphore on ${where}: the key function threw, so the method did not run.`,
          INVALID_SEMAPHORE_KEY,
          { method: where },
          { cause: error },
        );
      }
      if (typeof name !== 'string' || name.length === 0) {
        throw new RedisToolkitError(
          `@WithSemaphore on ${where}: the key function returned no semaphore name, so the method did not run.`,
          INVALID_SEMAPHORE_KEY,
          { method: where },
        );
      }
      return semaphores.using(name, semaphoreOptions, () => method.apply(instance, args));
    };
  }
}
