import { SetMetadata } from '@nestjs/common';
import { METHOD_ASPECT_KEYS } from './method-decorator.constants.js';

/**
 * Marks an injectable class as the aspect serving the decorators created with the given metadata keys. The class
 * must implement `MethodAspect` and be registered as a provider; `MethodDecoratorExplorer` finds it by this mark.
 *
 * @param metadataKeys the keys given to `createMethodDecorator` for the decorators this aspect implements
 * @example
 * ```ts
 * @Aspect(WITH_LOCK_METADATA)
 * @Injectable()
 * export class LockAspect implements MethodAspect<WithLockOptions> {
 *   constructor(private readonly locks: LockService) {}
 *   wrap({ instance, method, options }: MethodWrapContext<WithLockOptions>) {
 *     return (...args: unknown[]) => this.locks.using(options.key, () => method.apply(instance, args));
 *   }
 * }
 * ```
 */
export const Aspect = (...metadataKeys: string[]): ClassDecorator => SetMetadata(METHOD_ASPECT_KEYS, metadataKeys);
