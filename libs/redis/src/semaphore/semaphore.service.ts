import { randomBytes, randomUUID } from 'node:crypto';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { RedisConnectionsRegistry } from '../connection/redis-connections.registry.js';
import { RedisOptionsError } from '../errors/redis-options.error.js';
import { SemaphoreNotAcquiredError, type SemaphoreNotAcquiredReason } from '../errors/semaphore-not-acquired.error.js';
import type { ResolvedRedisCoreOptions } from '../connection/resolved-redis-connection.interface.js';
import type { ResolvedLockOptions } from '../lock/lock-options.interface.js';
import { RedisInstrumentation } from '../instrumentation/redis-instrumentation.js';
import { RedisKeyspace } from '../keyspace/redis-keyspace.js';
import { LockHandle, type LockHandleContext } from '../lock/lock-handle.js';
import { type LockWaiter, LockWaiters } from '../lock/lock-waiters.js';
import type { Lock } from '../lock/lock.interface.js';
import { closeLockBackend, releaseHeldHandles } from '../lock/lock-service-shutdown.js';
import { WatchdogArming } from '../lock/watchdog-arming.js';
import { DEFAULT_REDIS_CONNECTION, REDIS_RESOLVED_OPTIONS } from '../redis.constants.js';
import { waitWithin } from '../utils/settle-within.js';
import { resolveSemaphoreOptions, type ResolvedSemaphoreOptions } from './resolve-semaphore-options.js';
import { SemaphoreBackend } from './semaphore.backend.js';
import { semaphoreKeys, semaphoreWakeChannel } from './semaphore-keys.js';
import { SEMAPHORE_NOT_ACQUIRED, SEMAPHORE_RELEASE_FAILED } from './semaphore.messages.js';
import type { SemaphoreOptions } from './semaphore-options.interface.js';
import { errorText } from '../utils/error-text.js';

/**
 * A held permit: the same handle as a lock. `fencingToken` increases with every acquisition of the semaphore,
 * `signal` aborts with `LockLostError` if the permit is lost (expired, or Redis no longer lists it), `release()`
 * frees it and hands it to the first waiter.
 */
export type Permit = Lock;

/** Longest semaphore name accepted: it becomes part of several Redis keys. */
const MAX_NAME_LENGTH = 512;
const LONE_SURROGATE = /\p{Surrogate}/u;
/** Shortest wait for Redis on one attempt, even when `waitTimeout` is 0. */
const MIN_ATTEMPT_TIMEOUT_MS = 500;

/**
 * Counting semaphores on Redis: at most `permits` holders of one name at a time, across every process. The same
 * safety rules as `LockService`: each acquisition has its own owner token and fencing token; a permit lives for
 * `ttl` and is renewed by a watchdog while held (bounded by `maxHoldTime`), so a crashed holder frees its permit
 * after the ttl; waiters queue in FIFO order and a release hands the permit straight to the first live one; a
 * waiter that gives up (timeout or `signal`) leaves the queue and passes on any permit handed to it meanwhile.
 * Permits live on the module's main connection (all keys of one semaphore in one Cluster slot).
 *
 * @example
 * ```ts
 * await this.semaphores.using('payments', { permits: 3, ttl: 10_000 }, async (signal, permit) => {
 *   await this.payments.charge(order, { signal, fencingToken: permit.fencingToken });
 * });
 * ```
 */
@Injectable()
export class SemaphoreService implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(SemaphoreService.name);
  private readonly defaults: ResolvedLockOptions;
  private readonly instance = randomBytes(6).toString('hex');
  private readonly channel: string;
  private backend?: Promise<SemaphoreBackend>;
  private readonly wakes: LockWaiters;
  private readonly held = new Set<LockHandle>();
  private readonly arming = new WatchdogArming();
  private handleContext?: LockHandleContext;

  /** @internal Nest injects the collaborators; construct through `RedisSemaphoreModule`, never with `new`. */
  constructor(
    @Inject(REDIS_RESOLVED_OPTIONS) options: ResolvedRedisCoreOptions & { lock: ResolvedLockOptions },
    private readonly registry: RedisConnectionsRegistry,
    private readonly keyspace: RedisKeyspace,
    @Optional() instrumentation?: RedisInstrumentation,
  ) {
    this.defaults = options.lock;
    // Anyone who can PUBLISH on the app's Redis can write on the wake-up channel: junk is counted and dropped there.
    this.wakes = new LockWaiters(this.logger, () =>
      instrumentation?.emit('input.rejected', { source: 'semaphore.wakeup' }),
    );
    this.channel = semaphoreWakeChannel(keyspace);
  }

  /** Releases the permits still held, while the connections are open, so waiters need not wait for the ttl. */
  beforeApplicationShutdown(): Promise<void> {
    return releaseHeldHandles(this.held);
  }

  onApplicationShutdown(): Promise<void> {
    return closeLockBackend(this.arming, this.backend);
  }

  /**
   * Takes a permit of `name`, waiting up to `waitTimeout` (FIFO behind earlier waiters) while all are taken.
   *
   * @param name application-chosen name (e.g. `payments`); the module's `keyPrefix` is applied
   * @param options `permits` (required, the same for every caller of `name`) and per-call lock timings
   * @throws SemaphoreNotAcquiredError with `reason` `contention`, `unreachable` or `aborted`
   * @throws RedisOptionsError for an invalid name or options
   */
  async acquire(name: string, options: SemaphoreOptions): Promise<Permit> {
    return (await this.obtain(name, this.resolve(options), false)) as Permit;
  }

  /**
   * One attempt: a permit if one is free now and nobody waits ahead, `null` otherwise.
   * @throws SemaphoreNotAcquiredError when Redis did not answer: `null` always means every permit is taken
   */
  async tryAcquire(name: string, options: Omit<SemaphoreOptions, 'waitTimeout'>): Promise<Permit | null> {
    return this.obtain(name, { ...this.resolve(options), waitTimeout: 0 }, true);
  }

  /**
   * Runs `work` holding a permit and releases it afterwards, also when `work` throws.
   *
   * @param work receives the permit's `signal` (aborted with `LockLostError` if the permit is lost) and the permit
   * @throws SemaphoreNotAcquiredError when no permit was acquired (then `work` did not run); `LockLostError` when
   *   the permit was lost before `work` settled
   */
  async using<T>(
    name: string,
    options: SemaphoreOptions,
    work: (signal: AbortSignal, permit: Permit) => Promise<T> | T,
  ): Promise<T> {
    const permit = (await this.obtain(name, this.resolve(options), false)) as LockHandle;
    let result: T;
    try {
      result = await work(permit.signal, permit);
    } finally {
      await permit.release().catch((error: unknown) => {
        this.logger.warn(SEMAPHORE_RELEASE_FAILED(name, errorText(error)));
      });
    }
    if (permit.lost) throw permit.lost;
    return result;
  }

  /** How many permits of `name` are held right now (live holders only), e.g. for a health check or a gauge. */
  async holders(name: string): Promise<number> {
    this.checkName(name);
    const client = await this.registry.connect(DEFAULT_REDIS_CONNECTION);
    const keys = semaphoreKeys(this.keyspace, name, 0);
    const [seconds, micros] = await client.time();
    return client.zcount(keys.lock, `(${Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)}`, '+inf');
  }

  private resolve(options: SemaphoreOptions): ResolvedSemaphoreOptions {
    return resolveSemaphoreOptions(options, 'semaphore options', this.defaults);
  }

  private checkName(name: string): void {
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH || LONE_SURROGATE.test(name)) {
      throw new RedisOptionsError(
        `Invalid semaphore name: expected a non-empty, well-formed Unicode string of at most ${MAX_NAME_LENGTH} characters.`,
        'name',
      );
    }
  }

  private getBackend(): Promise<SemaphoreBackend> {
    if (!this.backend) {
      this.backend = this.registry.connect(DEFAULT_REDIS_CONNECTION).then(
        (client) =>
          new SemaphoreBackend(
            client,
            () => this.registry.getSubscriber(DEFAULT_REDIS_CONNECTION),
            (message) => this.wakes.onMessage(this.channel, message),
            { driftFactor: this.defaults.driftFactor, channel: this.channel, instance: this.instance },
          ),
      );
      this.backend.catch(() => (this.backend = undefined));
    }
    return this.backend;
  }

  /** How long a waiter stays queued without renewing: a few fallback polls, so a crashed waiter soon drops out. */
  private leaseFor(options: ResolvedSemaphoreOptions): number {
    return 3 * (options.retryDelay + options.retryJitter) + 1_000;
  }

  private async obtain(name: string, options: ResolvedSemaphoreOptions, tryOnly: boolean): Promise<LockHandle | null> {
    this.checkName(name);
    const started = Date.now();
    const notAcquired = (reason: SemaphoreNotAcquiredReason, cause?: unknown) => {
      const waited = Date.now() - started;
      return new SemaphoreNotAcquiredError(
        SEMAPHORE_NOT_ACQUIRED(name, options.permits, waited, reason),
        name,
        options.permits,
        reason,
        waited,
        cause,
      );
    };
    if (options.signal?.aborted) throw notAcquired('aborted');
    let backend: SemaphoreBackend;
    try {
      backend = await this.getBackend();
    } catch (error) {
      throw notAcquired('unreachable', error);
    }
    const keys = semaphoreKeys(this.keyspace, name, options.permits);
    const token = `${this.instance}.${randomUUID()}`;
    const deadline = started + options.waitTimeout;
    const waiting = options.waitTimeout > 0;
    const leaseMs = waiting ? this.leaseFor(options) : 0;
    let wake: LockWaiter | undefined;
    if (waiting) {
      wake = this.wakes.add(token);
    }
    let failure: SemaphoreNotAcquiredReason | undefined;
    let cause: unknown;
    let subscribed = false;
    try {
      for (;;) {
        const remaining = deadline - Date.now();
        const attemptTimeout = Math.max(MIN_ATTEMPT_TIMEOUT_MS, Math.min(options.ttl, remaining));
        const result = await backend.attempt(keys, token, options.ttl, leaseMs, attemptTimeout);
        if (result.granted)
          return this.track(name, token, result.fencingToken, result.validUntil, started, keys, backend, options);
        failure = result.failure === 'contention' ? 'contention' : 'unreachable';
        cause = result.error;
        if (!wake || Date.now() >= deadline || options.signal?.aborted) break;
        if (!subscribed) {
          subscribed = true;
          // Subscribed before waiting: a hand-over published from now on reaches us; one published earlier is
          // found by the next attempt (the permit is already ours in Redis).
          // Bounded by the wait, as the locks' (with Redis down the SUBSCRIBE would sit in the reconnecting
          // subscriber's offline queue for tens of seconds); not subscribed in time: poll every retryDelay.
          await waitWithin(backend.ensureSubscribed(), deadline - Date.now());
        }
        const delay = options.retryDelay + Math.random() * options.retryJitter;
        await wake.wait(Math.min(delay, Math.max(0, deadline - Date.now())), options.signal);
      }
    } finally {
      if (wake) this.wakes.remove(token, wake);
    }
    // Leave the queue, and give back a permit handed to us after our last attempt: a waiter that gives up leaks
    // nothing. Awaited (bounded), so the permit is free again when the caller sees the error.
    if (waiting) {
      await backend.release(keys, token, true, this.defaults.releaseTimeout).catch(() => undefined);
    }
    if (options.signal?.aborted) throw notAcquired('aborted');
    if (tryOnly && failure === 'contention') return null;
    throw notAcquired(failure ?? 'contention', cause);
  }

  private track(
    name: string,
    token: string,
    fencingToken: number,
    validUntil: number,
    acquiredAt: number,
    keys: ReturnType<typeof semaphoreKeys>,
    backend: SemaphoreBackend,
    options: ResolvedSemaphoreOptions,
  ): LockHandle {
    const context = (this.handleContext ??= {
      backend,
      releaseTimeout: this.defaults.releaseTimeout,
      arming: this.arming,
      logger: this.logger,
      onSettled: (settled) => this.held.delete(settled),
      onLost: () => undefined,
    });
    const handle = new LockHandle(name, token, fencingToken, validUntil, acquiredAt, keys, options, context);
    this.held.add(handle);
    return handle;
  }
}
