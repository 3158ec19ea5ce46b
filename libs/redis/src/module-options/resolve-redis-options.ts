import { resolveCacheOptions } from '../cache/resolve-cache-options.js';
import { resolveLockOptions } from '../lock/resolve-lock-options.js';
import { fail, optionalObject } from '../options/option-checks.js';
import { resolveCoreOptions } from '../options/resolve-core-options.js';
import type { ResolvedRedisOptions } from './resolved-redis-options.interface.js';

/** Top-level options that are not connection options. Later capabilities add their own key here. */
const MODULE_OPTION_KEYS = ['keyPrefix', 'startDegraded', 'connections', 'clientName', 'lock', 'cache'] as const;

/**
 * The single place where raw module options are validated, defaulted and normalised: the core options here, each
 * feature's section by the resolver next to that feature. Called by the options provider, so `forRoot` and
 * `forRootAsync` are checked the same way, at startup.
 *
 * @throws RedisOptionsError naming the offending field path
 */
export function resolveRedisOptions(raw: unknown): ResolvedRedisOptions {
  const options = optionalObject(raw, '(options)');
  if (!options) return fail('(options)', 'an options object', raw);
  const { core, clientName } = resolveCoreOptions(options, MODULE_OPTION_KEYS);
  const lock = resolveLockOptions(options.lock, clientName);
  const cache = resolveCacheOptions(options.cache);
  return { ...core, lock, cache };
}
