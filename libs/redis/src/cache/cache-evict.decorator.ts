import type { CacheEvictOptions } from './cache-options.interface.js';
import { optionKeys } from '../utils/option-keys.js';
import { createMethodDecorator } from '../method-decorators/create-method-decorator.js';
import { validateCacheDecoratorOptions } from './cache-decorator-options.js';
import { CACHE_EVICT_METADATA } from './cache.constants.js';

const cacheEvict = createMethodDecorator<CacheEvictOptions | undefined>(
  CACHE_EVICT_METADATA,
  '@CacheEvict',
  validateCacheDecoratorOptions(
    '@CacheEvict',
    optionKeys<CacheEvictOptions>()(['key', 'tags', 'allEntries', 'beforeInvocation', 'condition', 'name']),
  ),
);

/**
 * Evicts entries after the method succeeds (or before it runs, with `beforeInvocation`): by key(s), by tags, or
 * the whole cache namespace with `allEntries`. Loads of those entries already running cannot write them back.
 *
 * @example
 * ```ts
 * @CacheEvict({ key: (id: string) => `venue:${id}`, tags: ['availability'] })
 * async closeVenue(id: string): Promise<void> {
 *   await this.repository.close(id);
 * }
 * ```
 */
export const CacheEvict = (options?: CacheEvictOptions): MethodDecorator => cacheEvict(options);
