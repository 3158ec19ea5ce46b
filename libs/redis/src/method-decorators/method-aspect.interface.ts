/** Any method, as the aspects see it: `this` is the decorated instance. */
export type AnyMethod = (this: object, ...args: unknown[]) => unknown;

/** A class, as the explorer finds it behind an instance. */
export type DecoratedClass = abstract new (...args: never[]) => object;

/** What an aspect gets to build the wrapper of one method of one instance. */
export interface MethodWrapContext<TOptions> {
  /** The instance the wrapper is installed for (a provider or controller Nest created). */
  instance: object;
  /** The class that declares the decorated method (for default keys, names and messages). */
  target: DecoratedClass;
  /** The decorated method's name. */
  methodName: string;
  /**
   * The function to call for the actual work: the original method, or the wrapper built by the decorator written
   * below this one. Call it with `method.apply(instance, args)`.
   */
  method: AnyMethod;
  /** The options given to the decorator, exactly as written (merge your defaults in the aspect). */
  options: TOptions;
  /** The metadata key of the decorator being applied (an aspect may serve several decorators). */
  metadataKey: string;
}

/**
 * The behaviour behind a method decorator, as an injectable provider: it gets its services, options and logger
 * through its constructor, and `wrap()` turns one method of one instance into the wrapped function.
 *
 * The contract, for anyone adding a decorator (e.g. `@WithLock`):
 * 1. Define a metadata key (`'@localcloudlab/nest-redis:with-lock'`) and the decorator with
 *    `createMethodDecorator<WithLockOptions>(key, '@WithLock')`. Validate the options there, at decoration time.
 * 2. Write an `@Injectable()` class implementing `MethodAspect<WithLockOptions>` and mark it with
 *    `@Aspect(key)` (several keys may be given).
 * 3. Register the aspect as a provider of `RedisModule` (next to `CacheAspect`). `MethodDecoratorExplorer` finds it
 *    at `onModuleInit`, before any decorated method can run, and calls `wrap()` once per instance and method.
 * 4. `wrap()` runs at startup, so do the per-method work there (resolve defaults, build key functions) and keep the
 *    returned function lean. It may return a sync or async function; callers see whatever it returns.
 * 5. Never throw from `wrap()` for a runtime condition: throw a `RedisOptionsError` for bad options only (it fails
 *    startup, naming the class and method).
 */
export interface MethodAspect<TOptions = unknown> {
  wrap(context: MethodWrapContext<TOptions>): AnyMethod;
}
