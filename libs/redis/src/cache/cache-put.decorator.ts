import type { CachePutOptions } from './cache-options.interface.js';
import { optionKeys } from '../utils/option-keys.js';
import { createMethodDecorator } from '../method-decorators/create-method-decorator.js';
import { validateCacheDecoratorOptions } from './cache-decorator-options.js';
import { CACHE_PUT_METADATA } from './cache.constants.js';

const cachePut = createMethodDecorator<CachePutOptions | undefined>(
  CACHE_PUT_METADATA,
  '@CachePut',
  validateCacheDecoratorOptions(
    '@CachePut',
    optionKeys<CachePutOptions>()(['key', 'ttl', 'staleTtl', 'tags', 'condition', 'unless', 'name']),
  ),
);

/**
 * Always runs the method and stores its result under `key` (e.g. the key a `@Cacheable` reader uses), so readers
 * get the new value without a miss. An eviction that happens while the method runs wins.
 *
 * @example
 * ```ts
 * @CachePut({ key: (venue: Venue) => `venue:${venue.id}`, tags: ['venues'] })
 * async updateVenue(venue: Venue): Promise<Venue> {
 *   return this.repository.save(venue);
 * }
 * ```
 */
export const CachePut = (options?: CachePutOptions): MethodDecorator => cachePut(options);
