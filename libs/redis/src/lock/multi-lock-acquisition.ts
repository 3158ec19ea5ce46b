import type { LockCallOptions } from './lock-acquisition.js';
import type { LockHandle } from './lock-handle.js';
import { MultiLockHandle } from './multi-lock-handle.js';

/** Acquires one resource of a group: `LockService`'s single-resource path, with the group's start time. */
export type AcquireOne = (
  resource: string,
  options: LockCallOptions,
  tryOnly: boolean,
  started: number,
) => Promise<LockHandle | null>;

/**
 * Acquires `resources` (already in canonical order) one after the other, all-or-nothing: the first one that is not
 * granted (contention past the shared `waitTimeout`, Redis or a quorum missing, abort) releases every lock taken so
 * far before the error (or `null` for `tryOnly`) is returned. Every caller takes resources in the same order, so a
 * caller waiting for one resource never holds a resource that sorts after it: no cycle of waiters, no deadlock.
 *
 * @param started when the call began: `waitTimeout` bounds the whole group, not each resource
 * @returns the group, or `null` when `tryOnly` and one resource was held by another owner
 * @throws LockNotAcquiredError of the resource that was not acquired (none of the others is left held)
 */
export async function acquireInOrder(
  resources: readonly string[],
  options: LockCallOptions,
  tryOnly: boolean,
  started: number,
  acquireOne: AcquireOne,
): Promise<MultiLockHandle | null> {
  const held: LockHandle[] = [];
  try {
    for (const resource of resources) {
      const waitTimeout = Math.max(0, started + options.waitTimeout - Date.now());
      const lock = await acquireOne(resource, { ...options, waitTimeout }, tryOnly, started);
      if (!lock) {
        await releaseAll(held);
        return null;
      }
      held.push(lock);
    }
  } catch (error) {
    await releaseAll(held);
    throw error;
  }
  return new MultiLockHandle(held);
}

/**
 * Gives back the locks of a group that was not completed, waking their waiters. Each release is bounded by
 * `releaseTimeout`; one that fails leaves its lock to expire after its ttl (owner-checked, never someone else's).
 */
async function releaseAll(held: readonly LockHandle[]): Promise<void> {
  await Promise.allSettled(held.map((lock) => lock.release()));
}
