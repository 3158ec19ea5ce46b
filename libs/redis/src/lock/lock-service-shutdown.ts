// The shutdown of a service that hands out lock handles (`LockService`, `SemaphoreService`), in its two Nest hooks:
// one place for the order (release while the connections are open, then close what the service opened).
import type { LockHandle } from './lock-handle.js';
import type { WatchdogArming } from './watchdog-arming.js';

/**
 * `beforeApplicationShutdown`: releases the handles still held, so others need not wait for the ttl, then disposes
 * them.
 */
export async function releaseHeldHandles(held: ReadonlySet<LockHandle>): Promise<void> {
  const handles = [...held];
  await Promise.allSettled(handles.map((handle) => handle.release()));
  handles.forEach((handle) => handle.dispose());
}

/**
 * `onApplicationShutdown`: stops arming watchdogs and closes the backend, if one was created (a failed creation has
 * nothing to close).
 */
export async function closeLockBackend(
  arming: WatchdogArming,
  backend: Promise<{ close(): Promise<void> }> | undefined,
): Promise<void> {
  arming.close();
  const created = await backend?.catch(() => undefined);
  await created?.close();
}
