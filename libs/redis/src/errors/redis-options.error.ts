import { RedisToolkitError } from './redis-toolkit.error.js';

/** Invalid module or decorator options, thrown at startup. `field` is the offending option path. */
export class RedisOptionsError extends RedisToolkitError {
  static readonly code = 'E_INVALID_OPTIONS';

  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message, RedisOptionsError.code, { field });
  }
}
