import { RedisToolkitError } from './redis-toolkit.error.js';

/**
 * A method carrying one of the library's decorators (`@Cacheable`, `@WithLock`, …) was called on an instance that
 * Nest's container did not set up: it was made with `new`, or its module was never initialised.
 */
export class MethodNotWrappedError extends RedisToolkitError {
  static readonly code = 'E_METHOD_NOT_WRAPPED';

  constructor(
    message: string,
    readonly className: string,
    readonly methodName: string,
  ) {
    super(message, MethodNotWrappedError.code, { className, methodName });
  }
}
