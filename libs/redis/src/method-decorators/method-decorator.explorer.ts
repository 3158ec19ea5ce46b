import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { RedisOptionsError } from '../errors/redis-options.error.js';
import type { AnyMethod, DecoratedClass, MethodAspect } from './method-aspect.interface.js';
import { METHOD_ASPECT_KEYS, METHOD_TRAMPOLINES } from './method-decorator.constants.js';
import { DUPLICATE_ASPECT, NO_ASPECT_FOR_DECORATOR, REQUEST_SCOPED_WRAPPED } from './method-decorator.messages.js';
import {
  type MethodTrampoline,
  hasMethodWrapper,
  installMethodWrapper,
  setInstanceInstaller,
} from './create-method-decorator.js';
import { watchScopedInstances } from './scoped-instance.hook.js';

/** A decorated method found on a class, with the class that declares it. */
interface DecoratedMethod {
  declaringClass: DecoratedClass;
  record: MethodTrampoline;
}

/**
 * Installs the wrappers behind the library's method decorators. Runs once, at `onModuleInit` of `RedisModule`
 * (a global module, so Nest initialises it before the modules that use it, and a decorated method can be called
 * from any other provider's `onModuleInit`):
 *
 * 1. collects the aspects: providers whose class is marked with `@Aspect(...keys)`;
 * 2. walks every provider and controller instance (the real object behind `useClass`, `useFactory`, `useValue`),
 *    finds the methods our decorators replaced by trampolines along the prototype chain, and installs for each
 *    instance and trampoline one wrapper: the aspects composed around the original method, the decorator written
 *    closest to the method innermost, the one on top outermost;
 * 3. request-scoped and transient providers (no instance exists at startup): this application's container reports
 *    each instance it creates (`watchScopedInstances`), and the wrapper is built on that instance's first call from
 *    this application's aspects, then cached for it. Nothing is kept per class or per process, so two applications
 *    in one process with the same request-scoped class each wrap their own instances. Logged once at debug.
 *
 * A decorator whose aspect is missing fails startup with a `RedisOptionsError` naming the class and method.
 */
@Injectable()
export class MethodDecoratorExplorer implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('RedisModule');
  /** This application's scoped providers being watched, with the function that stops watching each. */
  private readonly watched = new Map<InstanceWrapper, () => void>();
  /** Per prototype: its decorated methods by trampoline (scoped instances of one class share them). */
  private readonly methodsByPrototype = new WeakMap<object, Map<AnyMethod, DecoratedMethod>>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  onModuleInit(): void {
    this.explore();
  }

  onModuleDestroy(): void {
    for (const stop of this.watched.values()) stop();
    this.watched.clear();
  }

  /** Installs every wrapper; safe to call again (already wrapped instances and watched providers are skipped). */
  explore(): void {
    const aspects = this.collectAspects();
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    const seen = new Set<object>();
    for (const wrapper of wrappers) {
      if (this.isScoped(wrapper)) {
        this.watchScoped(wrapper, aspects);
        continue;
      }
      const instance = wrapper.instance as unknown;
      if (typeof instance !== 'object' || instance === null || seen.has(instance)) continue;
      seen.add(instance);
      // The real class, also behind useFactory / useValue providers.
      const methods = this.decoratedMethods(Object.getPrototypeOf(instance) as object | null);
      for (const method of methods) this.install(instance, method, aspects);
    }
  }

  /**
   * A request-scoped or transient provider: no instance exists yet (Nest creates one per request or injection).
   * Each instance this application creates gets an installer bound to this application's aspects.
   */
  private watchScoped(wrapper: InstanceWrapper, aspects: Map<string, MethodAspect>): void {
    if (this.watched.has(wrapper)) return;
    const type = wrapper.metatype as DecoratedClass | null;
    const isFactory = wrapper.inject !== undefined && wrapper.inject !== null;
    const prototype = !isFactory && typeof type === 'function' ? (type.prototype as object | undefined) : undefined;
    if (prototype) {
      const methods = this.decoratedMethods(prototype);
      if (methods.length === 0) return;
      // Checked now, so a missing aspect fails startup rather than the first request.
      for (const method of methods) {
        for (const decoration of method.record.decorations) this.aspectFor(decoration, method, aspects);
      }
      this.logger.debug(
        REQUEST_SCOPED_WRAPPED(
          type?.name ?? String(wrapper.name),
          methods.map((m) => `${m.record.methodName}()`),
        ),
      );
    } else if (!isFactory) {
      return;
    }
    this.watched.set(
      wrapper,
      watchScopedInstances(wrapper, (instance) => this.prepareScopedInstance(instance, aspects)),
    );
  }

  /** Gives a newly created scoped instance the installer of this application (wrappers are built on first call). */
  private prepareScopedInstance(instance: object, aspects: Map<string, MethodAspect>): void {
    const methods = this.methodsOf(Object.getPrototypeOf(instance) as object | null);
    if (methods.size === 0) return;
    setInstanceInstaller(instance, (trampoline) => {
      const method = methods.get(trampoline);
      return method && this.compose(instance, method, aspects);
    });
  }

  private methodsOf(prototype: object | null): Map<AnyMethod, DecoratedMethod> {
    if (!prototype) return new Map();
    let methods = this.methodsByPrototype.get(prototype);
    if (!methods) {
      methods = new Map(this.decoratedMethods(prototype).map((m) => [m.record.trampoline, m]));
      this.methodsByPrototype.set(prototype, methods);
    }
    return methods;
  }

  private isScoped(wrapper: InstanceWrapper): boolean {
    return wrapper.isTransient || !wrapper.isDependencyTreeStatic();
  }

  private collectAspects(): Map<string, MethodAspect> {
    const aspects = new Map<string, MethodAspect>();
    const owners = new Map<string, string>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as MethodAspect | undefined;
      if (!instance || typeof instance !== 'object' || typeof instance.wrap !== 'function') continue;
      const keys = this.reflector.get<string[] | undefined>(METHOD_ASPECT_KEYS, instance.constructor);
      for (const key of keys ?? []) {
        const existing = aspects.get(key);
        if (existing && existing !== instance) {
          // The same aspect class registered in two modules of one app is harmless; two classes are a mistake.
          if (existing.constructor === instance.constructor) continue;
          throw new RedisOptionsError(
            DUPLICATE_ASPECT(key, owners.get(key) ?? '?', instance.constructor.name),
            'aspects',
          );
        }
        aspects.set(key, instance);
        owners.set(key, instance.constructor.name);
      }
    }
    return aspects;
  }

  /** Trampolines along the prototype chain (a subclass calling `super.method()` reaches the parent's). */
  private decoratedMethods(prototype: object | null): DecoratedMethod[] {
    const found: DecoratedMethod[] = [];
    for (let proto = prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
      for (const name of this.scanner.getAllMethodNames(proto)) {
        if (!Object.prototype.hasOwnProperty.call(proto, name)) continue;
        const records = Reflect.getOwnMetadata(METHOD_TRAMPOLINES, proto, name) as MethodTrampoline[] | undefined;
        for (const record of records ?? []) {
          found.push({ declaringClass: (proto as { constructor: DecoratedClass }).constructor, record });
        }
      }
    }
    return found;
  }

  private install(instance: object, method: DecoratedMethod, aspects: Map<string, MethodAspect>): void {
    if (hasMethodWrapper(instance, method.record.trampoline)) return;
    installMethodWrapper(instance, method.record.trampoline, this.compose(instance, method, aspects));
  }

  /** The aspects around the original method: first decoration (closest to the method) innermost. */
  private compose(instance: object, method: DecoratedMethod, aspects: Map<string, MethodAspect>): AnyMethod {
    const { record, declaringClass } = method;
    let fn = record.original;
    for (const decoration of record.decorations) {
      fn = this.aspectFor(decoration, method, aspects).wrap({
        instance,
        target: declaringClass,
        methodName: record.methodName,
        method: fn,
        options: decoration.options,
        metadataKey: decoration.metadataKey,
      });
    }
    return fn;
  }

  private aspectFor(
    decoration: MethodTrampoline['decorations'][number],
    method: DecoratedMethod,
    aspects: Map<string, MethodAspect>,
  ): MethodAspect {
    const aspect = aspects.get(decoration.metadataKey);
    if (!aspect) {
      const where = `${method.declaringClass.name}.${method.record.methodName}()`;
      throw new RedisOptionsError(
        NO_ASPECT_FOR_DECORATOR(decoration.decoratorName, decoration.metadataKey, where),
        decoration.decoratorName,
      );
    }
    return aspect;
  }
}
