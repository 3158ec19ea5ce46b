import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';

/** What Nest stores per request context (or per inquirer, for transient providers): the instance it created. */
interface InstanceHost {
  instance: unknown;
  isResolved?: boolean;
}

/** The two `InstanceWrapper` methods through which Nest creates the host of every request-scoped/transient instance. */
const CLONING_METHODS = ['cloneStaticInstance', 'cloneTransientInstance'] as const;

type Cloning = Record<(typeof CLONING_METHODS)[number], (...args: unknown[]) => InstanceHost>;

/**
 * Internal (explorer): calls `created(instance)` for every instance one application's Nest container creates for a
 * request-scoped or transient provider, the ones that exist already included (transient instances injected into
 * singletons are created at startup). Returns the function that stops watching (at application shutdown).
 *
 * Why here and not in the decorator: the class is shared by every application in the process, its
 * `InstanceWrapper` is not, so this is how an instance learns which application (and so which aspects, services
 * and key prefix) it belongs to. The hook is an own property of this application's wrapper, so nothing is shared.
 *
 * Nest assigns `host.instance` several times (a prototype placeholder, the constructed object, the instance
 * decorator's result); each object assigned is reported.
 */
export function watchScopedInstances(wrapper: InstanceWrapper, created: (instance: object) => void): () => void {
  const cloning = wrapper as unknown as Cloning;
  for (const name of CLONING_METHODS) {
    const original = cloning[name];
    if (typeof original !== 'function') continue;
    Object.defineProperty(cloning, name, {
      configurable: true,
      writable: true,
      value(this: Cloning, ...args: unknown[]): InstanceHost {
        const host = original.apply(this, args);
        // A wrapper whose tree turned out static hands back its one resolved host: nothing new was created.
        if (!host.isResolved) reportAssignments(host, created);
        return host;
      },
    });
  }
  for (const host of wrapper.getStaticTransientInstances() as InstanceHost[]) {
    if (isObject(host.instance)) created(host.instance);
  }
  return () => {
    for (const name of CLONING_METHODS) delete (cloning as Partial<Cloning>)[name];
  };
}

function reportAssignments(host: InstanceHost, created: (instance: object) => void): void {
  let current = host.instance;
  if (isObject(current)) created(current);
  Object.defineProperty(host, 'instance', {
    configurable: true,
    enumerable: true,
    get: () => current,
    set: (next: unknown) => {
      current = next;
      if (isObject(next)) created(next);
    },
  });
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}
