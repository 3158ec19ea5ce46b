import type { CacheableOptions } from './cache-options.interface.js';
import { optionKeys } from '../utils/option-keys.js';
import { createMethodDecorator } from '../method-decorators/create-method-decorator.js';
import { validateCacheDecoratorOptions } from './cache-decorator-options.js';
import { CACHEABLE_METADATA } from './cache.constants.js';

const cacheable = createMethodDecorator<CacheableOptions | undefined>(
  CACHEABLE_METADATA,
  '@Cacheable',
  validateCacheDecoratorOptions(
    '@Cacheable',
    optionKeys<CacheableOptions>()(['key', 'ttl', 'staleTtl', 'tags', 'condition', 'unless', 'name']),
  ),
);

/**
 * Caches the method's result in Redis (and L1 when configured): a hit returns the stored value without running
 * the method; concurrent misses run it once. The method then always returns a Promise.
 *
 * @param options key (default `Class.method:` + a stable hash of the arguments), ttl, staleTtl, tags, condition,
 *   unless, name
 * @example
 * ```ts
 * @Injectable()
 * export class VenuesService {
 *   @Cacheable({ ttl: 30_000, key: (id: string) => `venue:${id}`, tags: (id: string) => ['venues', `venue:${id}`] })
 *   async findVenue(id: string): Promise<Venue | null> {
 *     return this.repository.findOne(id);
 *   }
 * }
 * ```
 */
export const Cacheable = (options?: CacheableOptions): MethodDecorator => cacheable(options);
