import { Injectable } from '@nestjs/common';
import { RedisToolkitError } from '../errors/redis-toolkit.error.js';
import { Aspect } from '../method-decorators/aspect.decorator.js';
import type { AnyMethod, MethodAspect, MethodWrapContext } from '../method-decorators/method-aspect.interface.js';
import { WITH_LOCK_METADATA } from './lock.constants.js';
import { LockService } from './lock.service.js';
import type { WithLockOptions } from './with-lock-options.interface.js';

/** Code of the error thrown when a `@WithLock` key function throws or returns no name (the method does not run). */
const INVALID_LOCK_KEY = 'E_INVALID_LOCK_KEY';

/**
 * The behaviour of `@WithLock`: resolves the method's lock options once, then runs each call under
 * `LockService.using`, re-entering a lock the call chain already holds on the same resource.
 */
@Aspect(WITH_LOCK_METADATA)
@Injectable()
export class LockAspect implements MethodAspect<WithLockOptions> {
  constructor(private readonly locks: LockService) {}

  wrap({ instance, target, methodName, method, options }: MethodWrapContext<WithLockOptions>): AnyMethod {
    const locks = this.locks;
    const { key, ...lockOptions } = options;
    const keyOf = typeof key === 'function' ? (key as (...args: unknown[]) => unknown) : () => key;
    const where = `${target.name}.${methodName}()`;
    /** Several resources: re-enters those the call chain holds and acquires the others together. */
    const lockAll = async (resources: unknown[], args: unknown[]): Promise<unknown> => {
      if (resources.length === 0 || resources.some((r) => typeof r !== 'string' || r.length === 0)) {
        throw new RedisToolkitError(
          `@WithLock on ${where}: the key function returned an empty list or an empty name, so the method did not run.`,
          INVALID_LOCK_KEY,
          { method: where },
        );
      }
      const missing: string[] = [];
      for (const resource of resources as string[]) {
        const held = locks.current(resource);
        if (!held) missing.push(resource);
        else if (held.signal.aborted) throw held.signal.reason;
      }
      if (missing.length === 0) return method.apply(instance, args);
      return locks.using(missing, lockOptions, () => method.apply(instance, args));
    };
    return async function withLock(this: unknown, ...args: unknown[]): Promise<unknown> {
      let resource: unknown;
      try {
        resource = keyOf(...args);
      } catch (error) {
        throw new RedisToolkitError(
          `@WithLock on ${where}: the key function threw, so the method did not run.`,
          INVALID_LOCK_KEY,
          { method: where },
          { cause: error },
        );
      }
      if (Array.isArray(resource)) return lockAll(resource, args);
      if (typeof resource !== 'string' || resource.length === 0) {
        throw new RedisToolkitError(
          `@WithLock on ${where}: the key function returned no resource name, so the method did not run.`,
          INVALID_LOCK_KEY,
          { method: where },
        );
      }
      const held = locks.current(resource);
      if (held) {
        if (held.signal.aborted) throw held.signal.reason;
        return method.apply(instance, args);
      }
      return locks.using(resource, lockOptions, () => method.apply(instance, args));
    };
  }
}
