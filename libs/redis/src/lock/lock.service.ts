import { randomBytes, randomUUID } from 'node:crypto';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { describeConnection } from '../connection/describe-connection.js';
import { RedisConnectionsRegistry } from '../connection/redis-connections.registry.js';
import { LockNotAcquiredError, type LockNotAcquiredReason } from '../errors/lock-not-acquired.error.js';
import { RedisOptionsError } from '../errors/redis-options.error.js';
import type { ResolvedRedisOptions } from '../interfaces/resolved-redis-options.interface.js';
import { RedisInstrumentation } from '../instrumentation/redis-instrumentation.js';
import { RedisKeyspace } from '../keyspace/redis-keyspace.js';
import { resolveLockTimings } from '../options/resolve-lock-options.js';
import { DEFAULT_REDIS_CONNECTION, REDIS_RESOLVED_OPTIONS } from '../redis.constants.js';
import { driftFor } from './with-timeout.js';
import type { AttemptFailure, LockBackend } from './lock-backend.interface.js';
import { LockContext } from './lock-context.js';
import { LockHandle, type LockHandleContext } from './lock-handle.js';
import type { Lock, LockNode } from './lock.interface.js';
import { type LockKeys, lockKeys, lockWakeChannel } from './lock-keys.js';
import { LOCK_NOT_ACQUIRED } from './lock.messages.js';
import type { LockOptions, ResolvedLockOptions } from './lock-options.interface.js';
import { Redlock } from './redlock.js';
import { SingleNodeLocks } from './single-node-locks.js';
import { WatchdogArming } from './watchdog-arming.js';

type CallOptions = Omit<ResolvedLockOptions, 'nodes' | 'driftFactor' | 'releaseTimeout'> & { signal?: AbortSignal };

/** Longest resource name accepted: it becomes part of several Redis keys. */
const MAX_RESOURCE_LENGTH = 512;
const LONE_SURROGATE = /\p{Surrogate}/u;
/** Shortest wait for Redis on one attempt, even when `waitTimeout` is 0. */
const MIN_ATTEMPT_TIMEOUT_MS = 500;
/**
 * Redlock: how long a release keeps the nodes reserved for the waiter it woke. Short, because nodes can disagree on
 * who is first: a split reservation costs at most this long.
 */
const REDLOCK_CLAIM_WINDOW_MS = 200;
/** Resources whose keys are kept built; the cache starts over when full. */
const KEY_CACHE_SIZE = 1_000;

/** A local waiter, keyed by its token: woken by a hand-over (single node, with its fence) or a release (Redlock). */
class Wake {
  /** Fence of the latest hand-over announced to this waiter (single node). */
  handoff?: number;
  private pending = false;
  private resolve?: () => void;

  notify(fence?: number): void {
    if (fence !== undefined) this.handoff = Math.max(this.handoff ?? 0, fence);
    if (this.resolve) {
      const resolve = this.resolve;
      this.resolve = undefined;
      resolve();
    } else {
      this.pending = true;
    }
  }

  /** Resolves on the next notification (or one that came since the last wait), after `ms`, or on `signal`. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', finish);
        this.resolve = undefined;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      signal?.addEventListener('abort', finish, { once: true });
      this.resolve = finish;
    });
  }
}

/**
 * Distributed locks on Redis: `acquire` / `tryAcquire` return a {@link Lock} handle; `using` runs a callback under
 * the lock and always releases it. Single node by default (the module's main connection, FIFO hand-over to waiters);
 * Redlock when `lock.nodes` is configured. Every lock gets a fencing token and, unless `autoExtend: false`, a
 * watchdog that renews it while held, bounded by `maxHoldTime`.
 *
 * @example
 * ```ts
 * await this.locks.using(`booking:${slotId}`, { ttl: 5_000 }, async (signal, lock) => {
 *   const slot = await this.slots.get(slotId);
 *   await this.slots.save({ ...slot, bookedBy: userId }, { fencingToken: lock.fencingToken, signal });
 * });
 * ```
 */
@Injectable()
export class LockService implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(LockService.name);
  private readonly defaults: ResolvedLockOptions;
  private readonly channel: string;
  /**
   * Prefix of this service's tokens (`<instance>.<uuid>`): release scripts wake a waiter on `<channel>:<instance>`,
   * so a hand-over reaches only the process that waits instead of every subscriber.
   */
  private readonly instance = randomBytes(6).toString('hex');
  private backend?: Promise<LockBackend>;
  /** The backend once created, so the hot path skips an await. */
  private ready?: LockBackend;
  private readonly wakes = new Map<string, Set<Wake>>();
  private readonly held = new Set<LockHandle>();
  private readonly context = new LockContext();
  private readonly arming = new WatchdogArming();
  /** What every handle shares (one backend per service), created with the first grant. */
  private handleContext?: LockHandleContext;
  /** Keys of recently used resources, so a hot resource does not rebuild its four key strings on every call. */
  private readonly keyCache = new Map<string, LockKeys>();

  constructor(
    @Inject(REDIS_RESOLVED_OPTIONS) private readonly options: ResolvedRedisOptions,
    private readonly registry: RedisConnectionsRegistry,
    private readonly keyspace: RedisKeyspace,
    private readonly instrumentation: RedisInstrumentation,
  ) {
    this.defaults = options.lock;
    this.channel = lockWakeChannel(keyspace);
  }

  /** `'redlock'` when `lock.nodes` is configured, `'single'` otherwise. */
  get mode(): 'single' | 'redlock' {
    return this.defaults.nodes.length > 0 ? 'redlock' : 'single';
  }

  /** Majority of the Redlock nodes that must grant a lock; 1 in single-node mode. */
  get quorum(): number {
    return this.mode === 'redlock' ? Math.floor(this.defaults.nodes.length / 2) + 1 : 1;
  }

  /**
   * The connections locks are taken on, for health checks: every Redlock node, or the module's main connection in
   * single-node mode (opened if it was not yet).
   */
  async nodes(): Promise<readonly LockNode[]> {
    const backend = await this.getBackend();
    if (backend instanceof Redlock) return backend.nodeConnections;
    const client = await this.registry.connect(DEFAULT_REDIS_CONNECTION);
    const connection = this.options.connections.get(DEFAULT_REDIS_CONNECTION);
    return [{ label: DEFAULT_REDIS_CONNECTION, address: connection ? describeConnection(connection) : '', client }];
  }

  async onModuleInit(): Promise<void> {
    if (this.mode !== 'redlock') return;
    const backend = (await this.getBackend()) as Redlock;
    const ready = await backend.connect();
    if (ready < backend.quorum) {
      this.logger.warn(
        `Only ${ready} of ${this.defaults.nodes.length} Redlock nodes are ready (quorum ${backend.quorum}); ` +
          'locks cannot be acquired until more come back.',
      );
    }
  }

  /** Releases the locks still held, while the connections are open, so other processes need not wait for the TTL. */
  async beforeApplicationShutdown(): Promise<void> {
    const handles = [...this.held];
    await Promise.allSettled(handles.map((handle) => handle.release()));
    handles.forEach((handle) => handle.dispose());
  }

  async onApplicationShutdown(): Promise<void> {
    this.arming.close();
    const backend = await this.backend?.catch(() => undefined);
    await backend?.close();
  }

  /**
   * Acquires `resource`, waiting up to `waitTimeout` while another owner holds it. Waiters are woken when the lock
   * is released rather than polling.
   *
   * @param resource application-chosen name (e.g. `booking:42`); the module's `keyPrefix` is applied
   * @param options per-call overrides of the module's `lock` defaults
   * @throws LockNotAcquiredError when not acquired in time, with `reason` `contention`, `no-quorum`, `unreachable`
   *   or `aborted`
   */
  async acquire(resource: string, options: LockOptions = {}): Promise<Lock> {
    const lock = await this.obtain(resource, this.callOptions(options), false);
    return lock as Lock;
  }

  /**
   * One attempt: the lock if it is free now, `null` if another owner holds it (or waiters are queued for it).
   *
   * @throws LockNotAcquiredError when Redis (or a Redlock majority) did not answer: `null` always means contention
   */
  async tryAcquire(resource: string, options: Omit<LockOptions, 'waitTimeout'> = {}): Promise<Lock | null> {
    return this.obtain(resource, { ...this.callOptions(options), waitTimeout: 0 }, true);
  }

  /**
   * Runs `work` under the lock and releases it afterwards, also when `work` throws.
   *
   * @param work receives the lock's `signal` (aborted with `LockLostError` if the lock is lost) and the lock
   * @returns what `work` returns
   * @throws LockNotAcquiredError when not acquired (then `work` did not run); `LockLostError` when the lock was lost
   *   before `work` settled, even if `work` resolved: its effects were not fully protected
   */
  async using<T>(
    resource: string,
    options: LockOptions,
    work: (signal: AbortSignal, lock: Lock) => Promise<T> | T,
  ): Promise<T> {
    const lock = await this.acquire(resource, options);
    let result: T;
    try {
      result = await this.context.run(lock, () => work(lock.signal, lock));
    } finally {
      // Bounded by `releaseTimeout`: an outage cannot hold up the caller, the lock then expires after its ttl.
      await lock.release().catch((error: unknown) => {
        this.logger.warn(
          `Lock "${resource}" could not be released (${error instanceof Error ? error.message : String(error)}); it expires after its ttl.`,
        );
      });
    }
    if (lock instanceof LockHandle && lock.lost) throw lock.lost;
    return result;
  }

  /**
   * The lock held by the current call chain (inside `using` callbacks and `@WithLock` methods, across awaits): the
   * innermost one, or the one on `resource`.
   */
  current(resource?: string): Lock | undefined {
    return this.context.get(resource);
  }

  /** Merges per-call options over the module defaults, validating them like module options. */
  private callOptions(options: LockOptions): CallOptions {
    const { signal } = options;
    let timings = false;
    for (const key in options) {
      if (key !== 'signal') {
        timings = true;
        break;
      }
    }
    const resolved = timings
      ? resolveLockTimings(options as Record<string, unknown>, 'lock options', this.defaults)
      : this.defaults;
    return signal === undefined ? resolved : { ...resolved, signal };
  }

  private getBackend(): Promise<LockBackend> {
    if (!this.backend) {
      this.backend = this.createBackend();
      this.backend.then(
        (backend) => (this.ready = backend),
        () => (this.backend = undefined),
      );
    }
    return this.backend;
  }

  private async createBackend(): Promise<LockBackend> {
    const onWake = (message: string) => {
      const [token, fence] = message.split(':');
      this.wakes.get(token)?.forEach((wake) => wake.notify(fence === undefined ? undefined : Number(fence)));
    };
    if (this.defaults.nodes.length > 0) {
      return new Redlock(this.defaults.nodes, onWake, {
        driftFactor: this.defaults.driftFactor,
        channel: this.channel,
        instance: this.instance,
        claimWindowMs: REDLOCK_CLAIM_WINDOW_MS,
        logger: this.logger,
      });
    }
    const client = await this.registry.connect(DEFAULT_REDIS_CONNECTION);
    return new SingleNodeLocks(client, () => this.registry.getSubscriber(DEFAULT_REDIS_CONNECTION), onWake, {
      driftFactor: this.defaults.driftFactor,
      channel: this.channel,
      instance: this.instance,
    });
  }

  /** How long a waiter stays queued without renewing: a few fallback polls, so a crashed waiter soon drops out. */
  private leaseFor(options: Pick<CallOptions, 'retryDelay' | 'retryJitter'>): number {
    return 3 * (options.retryDelay + options.retryJitter) + 1_000;
  }

  private async obtain(resource: string, options: CallOptions, tryOnly: boolean): Promise<LockHandle | null> {
    if (
      typeof resource !== 'string' ||
      resource.length === 0 ||
      resource.length > MAX_RESOURCE_LENGTH ||
      LONE_SURROGATE.test(resource)
    ) {
      // Rejected rather than hashed: a lock name must stay exact and readable. Lone surrogates would all become
      // U+FFFD in Redis, so two distinct resources would share one lock.
      throw new RedisOptionsError(
        `Invalid lock resource: expected a non-empty, well-formed Unicode string of at most ${MAX_RESOURCE_LENGTH} characters.`,
        'resource',
      );
    }
    const started = Date.now();
    const notAcquired = (reason: LockNotAcquiredReason, cause?: unknown) => {
      const waited = Date.now() - started;
      this.instrumentation.emit('lock.failed', { waitMs: waited, reason, mode: this.mode });
      return new LockNotAcquiredError(LOCK_NOT_ACQUIRED(resource, waited, reason), resource, reason, waited, cause);
    };
    if (options.signal?.aborted) throw notAcquired('aborted');

    let backend: LockBackend;
    try {
      backend = this.ready ?? (await this.getBackend());
    } catch (error) {
      throw notAcquired(this.mode === 'redlock' ? 'no-quorum' : 'unreachable', error);
    }
    const keys = this.keysOf(resource);
    const token = `${this.instance}.${randomUUID()}`;
    const deadline = started + options.waitTimeout;
    const waiting = options.waitTimeout > 0;
    const leaseMs = waiting ? this.leaseFor(options) : 0;
    const wake = waiting ? this.addWake(token) : undefined;
    let failure: { failure: AttemptFailure; error?: unknown } | undefined;
    let denied: { fence: number; sentAt: number } | undefined;
    let subscribed = false;
    const grant = (fencingToken: number, validUntil: number) =>
      this.track(resource, token, fencingToken, validUntil, started, keys, backend, options);
    /** A hand-over announced after our last "busy" answer makes us the owner (see SingleNodeLocks). */
    const handedOver = (): LockHandle | undefined => {
      if (wake?.handoff === undefined || denied === undefined || wake.handoff <= denied.fence) return undefined;
      const validUntil = denied.sentAt + options.ttl - driftFor(options.ttl, this.defaults.driftFactor);
      // Too little validity left to hand out: the next attempt re-takes it under our token with a fresh ttl.
      return validUntil > Date.now() ? grant(wake.handoff, validUntil) : undefined;
    };

    try {
      for (;;) {
        const remaining = deadline - Date.now();
        const attemptTimeout = Math.max(MIN_ATTEMPT_TIMEOUT_MS, Math.min(options.ttl, remaining));
        const result = await backend.attempt(keys, token, options.ttl, leaseMs, attemptTimeout);
        if (result.granted) return grant(result.fencingToken, result.validUntil);
        failure = result;
        if (result.denied) denied = result.denied;
        const handed = handedOver();
        if (handed) return handed;
        if (!wake || Date.now() >= deadline || options.signal?.aborted) break;
        if (!subscribed) {
          subscribed = true;
          await backend.ensureSubscribed().catch(() => undefined);
        }
        const delay = options.retryDelay + Math.random() * options.retryJitter;
        await wake.wait(Math.min(delay, Math.max(0, deadline - Date.now())), options.signal);
        const woken = handedOver();
        if (woken) return woken;
      }
    } finally {
      if (wake) this.removeWake(token, wake);
    }

    if (waiting) backend.release(keys, token, true, this.defaults.releaseTimeout).catch(() => undefined);
    if (options.signal?.aborted) throw notAcquired('aborted');
    if (tryOnly && failure?.failure === 'contention') return null;
    throw notAcquired(failure?.failure ?? 'contention', failure?.error);
  }

  private track(
    resource: string,
    token: string,
    fencingToken: number,
    validUntil: number,
    acquiredAt: number,
    keys: LockKeys,
    backend: LockBackend,
    options: CallOptions,
  ): LockHandle {
    this.instrumentation.emit('lock.acquired', { waitMs: Date.now() - acquiredAt, mode: backend.mode });
    const context = (this.handleContext ??= {
      backend,
      releaseTimeout: this.defaults.releaseTimeout,
      arming: this.arming,
      logger: this.logger,
      onSettled: (settled) => this.held.delete(settled),
      onLost: () => this.instrumentation.emit('lock.lost', { mode: backend.mode }),
    });
    const handle = new LockHandle(resource, token, fencingToken, validUntil, acquiredAt, keys, options, context);
    this.held.add(handle);
    return handle;
  }

  private keysOf(resource: string): LockKeys {
    let keys = this.keyCache.get(resource);
    if (!keys) {
      if (this.keyCache.size >= KEY_CACHE_SIZE) this.keyCache.clear();
      keys = lockKeys(this.keyspace, resource);
      this.keyCache.set(resource, keys);
    }
    return keys;
  }

  private addWake(id: string): Wake {
    const wake = new Wake();
    let set = this.wakes.get(id);
    if (!set) {
      set = new Set();
      this.wakes.set(id, set);
    }
    set.add(wake);
    return wake;
  }

  private removeWake(id: string, wake: Wake): void {
    const set = this.wakes.get(id);
    set?.delete(wake);
    if (set?.size === 0) this.wakes.delete(id);
  }
}
