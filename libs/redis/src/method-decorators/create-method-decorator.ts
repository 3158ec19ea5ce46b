import { MethodNotWrappedError } from '../errors/method-not-wrapped.error.js';
import type { AnyMethod } from './method-aspect.interface.js';
import { METHOD_TRAMPOLINES } from './method-decorator.constants.js';
import { METHOD_NOT_WRAPPED } from './method-decorator.messages.js';

/** One application of one of our decorators, as recorded on the class. */
export interface MethodDecoration {
  /** The metadata key of the decorator (what the aspect is registered for). */
  metadataKey: string;
  /** The decorator's display name, for messages (`@Cacheable`). */
  decoratorName: string;
  options: unknown;
}

/**
 * Internal: one trampoline and what it stands for. Decorators of ours stacked directly on each other share one
 * trampoline; a foreign method-replacing decorator in between starts a new one.
 */
export interface MethodTrampoline {
  trampoline: AnyMethod;
  /** The function the trampoline replaced: the original method or a foreign decorator's wrapper. */
  original: AnyMethod;
  /** In application order: the decorator written closest to the method first. */
  decorations: MethodDecoration[];
  methodName: string;
}

/** The wrappers installed by an explorer, per instance and trampoline. Keyed weakly: nothing outlives its instance. */
const installed = new WeakMap<object, Map<AnyMethod, AnyMethod>>();

/**
 * For instances of request-scoped or transient providers, created after startup: builds the wrapper of one trampoline
 * on first call, from the aspects of the application that created the instance. Keyed by instance, never by class:
 * the same class may live in several applications of one process.
 */
type InstanceInstaller = (trampoline: AnyMethod) => AnyMethod | undefined;
const instanceInstallers = new WeakMap<object, InstanceInstaller>();

const TRAMPOLINE = Symbol('nest-redis:trampoline');

/** Internal (explorer): the wrapper `trampoline` calls for `instance`. */
export function installMethodWrapper(instance: object, trampoline: AnyMethod, wrapper: AnyMethod): void {
  let perInstance = installed.get(instance);
  if (!perInstance) {
    perInstance = new Map();
    installed.set(instance, perInstance);
  }
  perInstance.set(trampoline, wrapper);
}

/** Internal (explorer): whether a wrapper is installed already (an instance exported under several tokens). */
export function hasMethodWrapper(instance: object, trampoline: AnyMethod): boolean {
  return installed.get(instance)?.has(trampoline) ?? false;
}

/** Internal (explorer): how wrappers are built for `instance` on first call (an instance created after startup). */
export function setInstanceInstaller(instance: object, installer: InstanceInstaller): void {
  instanceInstallers.set(instance, installer);
}

/** Internal (explorer): the trampolines recorded for `prototype[methodName]`, inherited ones included. */
export function getMethodTrampolines(prototype: object, methodName: string): MethodTrampoline[] {
  return (Reflect.getMetadata(METHOD_TRAMPOLINES, prototype, methodName) as MethodTrampoline[] | undefined) ?? [];
}

/** Copies every Reflect metadata entry of `from` onto `to` (Nest's route, pattern, guard and Swagger metadata). */
function copyMetadata(from: object, to: object): void {
  for (const key of Reflect.getOwnMetadataKeys(from)) {
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, from), to);
  }
}

function createTrampoline(record: Omit<MethodTrampoline, 'trampoline'>, className: () => string): AnyMethod {
  const trampoline = function (this: object, ...args: unknown[]): unknown {
    let wrapper = installed.get(this)?.get(trampoline);
    if (wrapper === undefined) {
      wrapper = instanceInstallers.get(this)?.(trampoline);
      if (wrapper === undefined) {
        const names = record.decorations.map((d) => d.decoratorName).reverse();
        throw new MethodNotWrappedError(
          METHOD_NOT_WRAPPED(className(), record.methodName, names),
          className(),
          record.methodName,
        );
      }
      installMethodWrapper(this, trampoline, wrapper);
    }
    return wrapper.apply(this, args);
  } as AnyMethod;
  Object.defineProperty(trampoline, 'name', { value: record.original.name, configurable: true });
  Object.defineProperty(trampoline, TRAMPOLINE, { value: true });
  copyMetadata(record.original, trampoline);
  return trampoline;
}

/**
 * Creates a method decorator whose behaviour is supplied at runtime by the aspect registered for `metadataKey`
 * (see `MethodAspect` for the whole contract).
 *
 * What the returned decorator does, at class definition time:
 * - records `options` under `metadataKey` on the method (readable with `Reflector.get(metadataKey, method)`);
 * - replaces the method with a trampoline that calls the wrapper `MethodDecoratorExplorer` installs for each
 *   instance at `onModuleInit`; without one (an object made with `new`, a module never initialised) the call
 *   throws a `MethodNotWrappedError` naming the class, the method and the likely cause;
 * - keeps the method's `name` and copies all its Reflect metadata to the trampoline, so `@MessagePattern`, route,
 *   guard and Swagger decorators work whichever side of ours they are written on.
 *
 * Stacking: several of our decorators on one method compose like functions, the one written on top is the
 * outermost (runs first). `@Cacheable` above `@WithLock` checks the cache and only locks on a miss.
 *
 * @param metadataKey the key the aspect is registered for with `@Aspect(metadataKey)`
 * @param decoratorName the name shown in messages, e.g. `'@WithLock'`
 * @param validate optional check of the options at decoration time; throw a `RedisOptionsError` to refuse them
 * @example
 * ```ts
 * export const WithLock = (options: WithLockOptions): MethodDecorator =>
 *   createMethodDecorator(WITH_LOCK_METADATA, '@WithLock', validateWithLockOptions)(options);
 * ```
 */
export function createMethodDecorator<TOptions>(
  metadataKey: string,
  decoratorName: string,
  validate?: (options: TOptions, where: string) => void,
): (options: TOptions) => MethodDecorator {
  return (options: TOptions): MethodDecorator =>
    (target, propertyKey, descriptor) => {
      const methodName = String(propertyKey);
      const className = () => (typeof target === 'function' ? target.name : target.constructor.name);
      const current = descriptor.value as unknown;
      if (typeof current !== 'function') {
        throw new TypeError(`${decoratorName} can only decorate methods; ${className()}.${methodName} is not one.`);
      }
      validate?.(options, `${className()}.${methodName}()`);
      Reflect.defineMetadata(metadataKey, options, current);
      const decoration: MethodDecoration = { metadataKey, decoratorName, options };

      const records = Reflect.getOwnMetadata(METHOD_TRAMPOLINES, target, propertyKey) as MethodTrampoline[] | undefined;
      const top = records?.[records.length - 1];
      if (top && top.trampoline === current && (current as { [TRAMPOLINE]?: boolean })[TRAMPOLINE]) {
        // Directly on top of one of ours: same trampoline, one more layer.
        top.decorations.push(decoration);
        return descriptor;
      }
      const record = { original: current as AnyMethod, decorations: [decoration], methodName };
      const trampoline = createTrampoline(record, className);
      Reflect.defineMetadata(METHOD_TRAMPOLINES, [...(records ?? []), { ...record, trampoline }], target, propertyKey);
      descriptor.value = trampoline as typeof descriptor.value;
      return descriptor;
    };
}
