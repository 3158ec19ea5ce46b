import { RedisOptionsError } from '../errors/redis-options.error.js';
import type { RedisKeyspace } from '../keyspace/redis-keyspace.js';
import { type LockKeys, lockKeys } from './lock-keys.js';

/** Longest resource name accepted: it becomes part of several Redis keys. */
export const MAX_RESOURCE_LENGTH = 512;
const LONE_SURROGATE = /\p{Surrogate}/u;
/**
 * Most resources one lock call takes at once. Each is acquired in turn (one or more round trips each) while the
 * earlier ones are held, so a long list holds many locks for a long time; split larger sets.
 */
export const MAX_LOCK_RESOURCES = 64;
/** Resources whose keys are kept built; the cache starts over when full. */
const KEY_CACHE_SIZE = 1_000;

/**
 * Checks a lock resource name.
 *
 * @param field the field the error names (`resource`, or `resources[i]` in a list)
 * @throws RedisOptionsError (field `resource`) unless it is a non-empty, well-formed string of at most 512 characters
 */
export function assertLockResource(resource: unknown, field = 'resource'): asserts resource is string {
  if (
    typeof resource !== 'string' ||
    resource.length === 0 ||
    resource.length > MAX_RESOURCE_LENGTH ||
    LONE_SURROGATE.test(resource)
  ) {
    // Rejected rather than hashed: a lock name must stay exact and readable. Lone surrogates would all become
    // U+FFFD in Redis, so two distinct resources would share one lock.
    throw new RedisOptionsError(
      `Invalid lock ${field}: expected a non-empty, well-formed Unicode string of at most ${MAX_RESOURCE_LENGTH} characters.`,
      field,
    );
  }
}

/**
 * Checks a list of lock resources and puts it in canonical order: duplicates dropped, sorted by UTF-16 code units
 * (the same order in every process), so callers listing the same resources in any order acquire them in one order
 * and cannot deadlock each other.
 *
 * @throws RedisOptionsError (field `resources`) for an empty or too long list, (`resources[i]`) for a bad name
 */
export function canonicalLockResources(resources: unknown): string[] {
  if (!Array.isArray(resources) || resources.length === 0) {
    throw new RedisOptionsError('Invalid lock resources: expected a non-empty array of resource names.', 'resources');
  }
  resources.forEach((resource: unknown, i) => assertLockResource(resource, `resources[${i}]`));
  const unique = [...new Set(resources as string[])].sort();
  if (unique.length > MAX_LOCK_RESOURCES) {
    throw new RedisOptionsError(
      `Invalid lock resources: expected at most ${MAX_LOCK_RESOURCES} distinct resource names, got ${unique.length}.`,
      'resources',
    );
  }
  return unique;
}

/** The keys of recently used resources, so a hot resource does not rebuild its four key strings on every call. */
export class LockKeyCache {
  private readonly keys = new Map<string, LockKeys>();

  constructor(private readonly keyspace: RedisKeyspace) {}

  of(resource: string): LockKeys {
    let keys = this.keys.get(resource);
    if (!keys) {
      if (this.keys.size >= KEY_CACHE_SIZE) this.keys.clear();
      keys = lockKeys(this.keyspace, resource);
      this.keys.set(resource, keys);
    }
    return keys;
  }
}
