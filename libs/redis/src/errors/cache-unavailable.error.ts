import { RedisToolkitError } from './redis-toolkit.error.js';

/**
 * A cache command failed, timed out, or found the connection not ready. Internal to the cache: it never reaches
 * callers, who get fail-open behaviour instead (the call runs uncached, `get` answers a miss); it is what the
 * cache's fail-open warnings report.
 */
export class CacheUnavailableError extends RedisToolkitError {
  static readonly code = 'E_CACHE_UNAVAILABLE';

  constructor(message: string, cause?: unknown) {
    super(message, CacheUnavailableError.code, {}, { cause });
  }
}
