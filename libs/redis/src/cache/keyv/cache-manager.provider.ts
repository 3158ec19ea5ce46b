import { Logger, type Provider } from '@nestjs/common';
import type { RedisClient } from '../../connection/redis-connection.factory.js';
import type { ResolvedCacheOptions } from '../cache-options.interface.js';
import { RedisInstrumentation } from '../../instrumentation/redis-instrumentation.js';
import { RedisKeyspace } from '../../keyspace/redis-keyspace.js';
import { getRedisConnectionToken } from '../../redis.constants.js';
import { RejectedInputReporter } from '../../utils/rejected-input.reporter.js';
import { REDIS_CACHE_OPTIONS } from '../cache.constants.js';
import { CACHE_MANAGER_UNAVAILABLE } from '../cache.messages.js';
import { RedisKeyvStore } from './redis-keyv.store.js';
import { errorText } from '../../utils/error-text.js';

/** The methods of cache-manager 7's `Cache`, for the stand-in served when the packages are missing. */
const CACHE_MANAGER_METHODS = ['get', 'mget', 'ttl', 'set', 'mset', 'del', 'mdel', 'clear', 'wrap', 'disconnect'];

/** Nest's token for the cache manager (`CACHE_MANAGER` of `@nestjs/cache-manager`, a plain string). */
export const CACHE_MANAGER_TOKEN = 'CACHE_MANAGER';

/**
 * Builds cache-manager 7 over a Keyv instance backed by `RedisKeyvStore`. cache-manager and keyv are imported only
 * here, on demand, so applications that do not use `CACHE_MANAGER` need neither package.
 */
async function createCacheManager(
  options: ResolvedCacheOptions,
  client: RedisClient,
  keyspace: RedisKeyspace,
  instrumentation: RedisInstrumentation,
): Promise<unknown> {
  if (!options.cacheManager) return null;
  let modules: [typeof import('cache-manager'), typeof import('keyv')];
  try {
    modules = await Promise.all([import('cache-manager'), import('keyv')]);
  } catch (error) {
    const reason = errorText(error);
    // A stand-in whose cache methods explain what is missing; other properties (Nest's lifecycle probes, `then`)
    // stay undefined so startup is unaffected.
    const fail = () => {
      throw new Error(CACHE_MANAGER_UNAVAILABLE(reason));
    };
    return Object.fromEntries(CACHE_MANAGER_METHODS.map((method) => [method, fail]));
  }
  const [{ createCache }, { Keyv }] = modules;
  // No Keyv namespace: the store namespaces keys itself under the module's prefix.
  const rejected = new RejectedInputReporter(new Logger('RedisCache'), instrumentation, options.errorLogInterval);
  const store = new RedisKeyvStore(client, keyspace, rejected);
  const keyv = new Keyv({ store, namespace: undefined, useKeyPrefix: false });
  return createCache({ stores: [keyv], ttl: options.ttl });
}

/** The `CACHE_MANAGER` provider RedisModule registers (`null` when `cache.cacheManager` is false). */
export const cacheManagerProvider: Provider = {
  provide: CACHE_MANAGER_TOKEN,
  useFactory: createCacheManager,
  inject: [REDIS_CACHE_OPTIONS, getRedisConnectionToken(), RedisKeyspace, RedisInstrumentation],
};
