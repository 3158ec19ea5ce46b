import { Inject, Injectable, Logger } from '@nestjs/common';
import type {
  CacheableOptions,
  CacheEvictOptions,
  CachePutOptions,
  CacheTagsOption,
  ResolvedCacheOptions,
} from './cache-options.interface.js';
import { Aspect } from '../method-decorators/aspect.decorator.js';
import type { AnyMethod, MethodAspect, MethodWrapContext } from '../method-decorators/method-aspect.interface.js';
import { defaultMethodKey } from './cache-key.builder.js';
import { resolveCallOptions } from './cache-call-options.js';
import { CacheMetrics } from './cache-metrics.js';
import { CacheServedObserver } from './cache-served.observer.js';
import {
  CACHE_EVICT_METADATA,
  CACHE_PUT_METADATA,
  CACHEABLE_METADATA,
  REDIS_CACHE_OPTIONS,
} from './cache.constants.js';
import { CacheLoader } from './cache.loader.js';
import { CacheLookup } from './cache.lookup.js';
import { CacheService } from './cache.service.js';
import { errorText, toError } from '../utils/error-text.js';

type CacheDecoratorOptions = CacheableOptions | CachePutOptions | CacheEvictOptions | undefined;

/**
 * The behaviour of `@Cacheable`, `@CachePut` and `@CacheEvict`: resolves each decorated method's options once
 * (module defaults merged by `resolveCallOptions`, key and tag functions, counters) and wraps it around the cache:
 * `CacheLookup` for `@Cacheable`, `CacheLoader.put()` for `@CachePut`, `CacheService`'s evictions for `@CacheEvict`.
 */
@Aspect(CACHEABLE_METADATA, CACHE_PUT_METADATA, CACHE_EVICT_METADATA)
@Injectable()
export class CacheAspect implements MethodAspect<CacheDecoratorOptions> {
  private readonly logger = new Logger('RedisCache');

  constructor(
    @Inject(REDIS_CACHE_OPTIONS) private readonly defaults: ResolvedCacheOptions,
    private readonly cache: CacheService,
    private readonly lookup: CacheLookup,
    private readonly loader: CacheLoader,
    private readonly observer: CacheServedObserver,
    private readonly metrics: CacheMetrics,
  ) {}

  wrap(context: MethodWrapContext<CacheDecoratorOptions>): AnyMethod {
    switch (context.metadataKey) {
      case CACHE_PUT_METADATA:
        return this.cachePut(context as MethodWrapContext<CachePutOptions | undefined>);
      case CACHE_EVICT_METADATA:
        return this.cacheEvict(context as MethodWrapContext<CacheEvictOptions>);
      default:
        return this.cacheable(context as MethodWrapContext<CacheableOptions | undefined>);
    }
  }

  private cacheable({
    instance,
    target,
    methodName,
    method,
    options = {},
  }: MethodWrapContext<CacheableOptions | undefined>): AnyMethod {
    const { lookup, observer } = this;
    const { name, ttl, staleTtl, unless } = resolveCallOptions(this.defaults, options, `${target.name}.${methodName}`);
    const counters = this.metrics.for(name);
    const keyOf = this.keyFunction(options.key, target.name, methodName);
    const tagsOf = tagFunction(options.tags);
    const { condition } = options;
    const logger = this.logger;
    // Not `async`: a hit costs no extra promise layer. Every path still answers a Promise.
    return function cacheable(this: unknown, ...args: unknown[]): Promise<unknown> {
      const run = () => method.apply(instance, args);
      if (condition && !condition(...args)) {
        observer.recordBypass(name, '');
        return invoke(run);
      }
      let key: string;
      let tags: string[];
      try {
        key = keyOf(args);
        if (typeof key !== 'string' || key.length === 0) throw new TypeError('the key must be a non-empty string');
        tags = tagsOf(args);
      } catch (error) {
        logger.warn(`${name}: cannot build the cache key or tags (${errorText(error)}); running uncached.`);
        observer.recordBypass(name, '');
        return invoke(run);
      }
      // Every field present from the start: the plan keeps one shape along the hot path.
      return lookup.resolveValue({
        key,
        entryKey: undefined,
        loader: run,
        ttl,
        staleTtl,
        tags,
        unless,
        name,
        counters,
        observer: undefined,
      });
    };
  }

  private cachePut({
    instance,
    target,
    methodName,
    method,
    options = {},
  }: MethodWrapContext<CachePutOptions | undefined>): AnyMethod {
    const loader = this.loader;
    const call = resolveCallOptions(this.defaults, options, `${target.name}.${methodName}`);
    const keyOf = this.keyFunction(options.key, target.name, methodName);
    const tagsOf = tagFunction(options.tags);
    const { condition } = options;
    return async function cachePut(this: unknown, ...args: unknown[]): Promise<unknown> {
      const run = () => method.apply(instance, args);
      if (condition && !condition(...args)) return run();
      return loader.put(keyOf(args), run, call, tagsOf(args));
    };
  }

  private cacheEvict({ instance, method, options }: MethodWrapContext<CacheEvictOptions>): AnyMethod {
    const cache = this.cache;
    const keysOf = (args: unknown[]): string[] => {
      const key = options.key;
      if (key === undefined) return [];
      const keys = typeof key === 'function' ? key(...args) : key;
      return Array.isArray(keys) ? keys : [keys];
    };
    const tagsOf = tagFunction(options.tags);
    const { allEntries, beforeInvocation, condition } = options;
    const evict = async (args: unknown[]): Promise<void> => {
      if (allEntries) {
        await cache.clear();
        return;
      }
      const keys = keysOf(args);
      const tags = tagsOf(args);
      await Promise.all([
        keys.length > 0 ? cache.del(keys) : undefined,
        tags.length > 0 ? cache.invalidateTags(tags) : undefined,
      ]);
    };
    return async function cacheEvict(this: unknown, ...args: unknown[]): Promise<unknown> {
      const active = !condition || condition(...args);
      if (active && beforeInvocation) await evict(args);
      const result = await method.apply(instance, args);
      if (active && !beforeInvocation) await evict(args);
      return result;
    };
  }

  private keyFunction(
    key: CacheableOptions['key'],
    className: string,
    methodName: string,
  ): (args: unknown[]) => string {
    if (typeof key === 'string') return () => key;
    if (typeof key === 'function') return (args) => key(...args);
    return (args) => defaultMethodKey(className, methodName, args);
  }
}

/** Runs a method and answers a Promise, also when it is sync or throws synchronously. */
function invoke(run: () => unknown): Promise<unknown> {
  try {
    return Promise.resolve(run());
  } catch (error) {
    return Promise.reject(toError(error));
  }
}

/** Shared by every call without tags (never mutated). */
const NO_TAGS: string[] = [];

function tagFunction(tags: CacheTagsOption | undefined): (args: unknown[]) => string[] {
  if (tags === undefined) return () => NO_TAGS;
  if (typeof tags === 'function') return (args) => tags(...args);
  return () => tags;
}
