import type { RedisClient } from '../connection/redis-connection.factory.js';
import { type LockScripts, ScriptedLockBackend } from '../lock/scripted-lock-backend.js';
import type { SemaphoreKeys } from './semaphore-keys.js';
import { SEMAPHORE_ACQUIRE, SEMAPHORE_EXTEND, SEMAPHORE_RELEASE } from './semaphore.scripts.js';

export interface SemaphoreBackendOptions {
  driftFactor: number;
  /** Shared wake channel; hand-overs to this instance's waiters come on `<channel>:<instance>`. */
  channel: string;
  /** The instance id that prefixes this service's tokens and names its wake channel. */
  instance: string;
}

function keyList(keys: SemaphoreKeys): string[] {
  return [keys.lock, keys.fence, keys.queue, keys.leases, keys.fences];
}

/** The semaphore scripts and their calls (every call names all of a semaphore's keys: one hash slot). */
function semaphoreScripts(channel: string): LockScripts<SemaphoreKeys> {
  return {
    acquire: SEMAPHORE_ACQUIRE,
    extend: SEMAPHORE_EXTEND,
    release: SEMAPHORE_RELEASE,
    acquireCall: (keys, token, ttl, leaseMs) => ({
      keys: keyList(keys),
      args: [token, keys.permits, ttl, leaseMs > 0 ? 1 : 0, leaseMs],
    }),
    extendCall: (keys, token, ttl) => ({ keys: keyList(keys), args: [token, ttl] }),
    releaseCall: (keys, token, leave) => ({
      keys: keyList(keys),
      args: [token, keys.permits, leave ? 1 : 0, channel],
    }),
  };
}

/**
 * Permits on the module's main connection, in the shape of a lock backend so a permit is held by the lock's own
 * handle (watchdog, `signal`, `maxHoldTime`, owner-checked release). One script per acquire, extend and release;
 * hand-overs come on this instance's own channel.
 */
export class SemaphoreBackend extends ScriptedLockBackend<SemaphoreKeys> {
  constructor(
    client: RedisClient,
    getSubscriber: () => Promise<RedisClient>,
    onWake: (message: string) => void,
    options: SemaphoreBackendOptions,
  ) {
    super(client, getSubscriber, (_channel, message) => onWake(message), semaphoreScripts(options.channel), {
      driftFactor: options.driftFactor,
      channels: [`${options.channel}:${options.instance}`],
    });
  }
}
