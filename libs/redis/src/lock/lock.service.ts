// Longer than ~300 lines on purpose: every public verb is declared twice (one resource, several resources) with its
// JSDoc, and the service only wires the roles together; the work is in LockAcquisition, LockWaiters and LockHandle.
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
import { awaitReplicaAcknowledgement, checkReplicaAcknowledgement } from '../connection/replica-acknowledgement.js';
import { RedisToolkitError } from '../errors/redis-toolkit.error.js';
import type { LockNotAcquiredReason } from '../errors/lock-not-acquired.error.js';
import type { ResolvedRedisCoreOptions } from '../connection/resolved-redis-connection.interface.js';
import { RedisInstrumentation } from '../instrumentation/redis-instrumentation.js';
import { RedisKeyspace } from '../keyspace/redis-keyspace.js';
import { resolveLockTimings } from './resolve-lock-options.js';
import { DEFAULT_REDIS_CONNECTION, REDIS_RESOLVED_OPTIONS } from '../redis.constants.js';
import { errorText } from '../utils/error-text.js';
import {
  LockAcquisition,
  type LockAcquisitionContext,
  type LockCallOptions,
  lockNotAcquired,
} from './lock-acquisition.js';
import type { LockBackend } from './lock-backend.interface.js';
import { LockContext } from './lock-context.js';
import { LOCK_NOT_REPLICATED } from './lock.messages.js';
import { LockHandle, type LockHandleContext } from './lock-handle.js';
import { closeLockBackend, releaseHeldHandles } from './lock-service-shutdown.js';
import type { Lock, LockNode, MultiLock } from './lock.interface.js';
import { lockWakeChannel } from './lock-keys.js';
import type { LockOptions, ResolvedLockOptions } from './lock-options.interface.js';
import { assertLockResource, canonicalLockResources, LockKeyCache } from './lock-resource.js';
import { LockWaiters } from './lock-waiters.js';
import { acquireInOrder } from './multi-lock-acquisition.js';
import { MultiLockHandle } from './multi-lock-handle.js';
import { Redlock } from './redlock.js';
import { SingleNodeLocks } from './single-node-locks.js';
import { WatchdogArming } from './watchdog-arming.js';

/**
 * Redlock: how long a release keeps the nodes reserved for the waiter it woke. Short, because nodes can disagree on
 * who is first: a split reservation costs at most this long.
 */
const REDLOCK_CLAIM_WINDOW_MS = 200;

/**
 * Distributed locks on Redis: `acquire` / `tryAcquire` return a {@link Lock} handle; `using` runs a callback under
 * the lock and always releases it. Single node by default (the module's main connection, FIFO hand-over to waiters);
 * Redlock when `lock.nodes` is configured. Every lock gets a fencing token and, unless `autoExtend: false`, a
 * watchdog that renews it while held, bounded by `maxHoldTime`. Each method also takes a list of resources: all of
 * them are held (a {@link MultiLock} with a fencing token per resource) or none, taken in canonical order.
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
  /** Waiters by token; also the handler of the wake-up channels (which anyone may publish junk on). */
  private readonly waiters: LockWaiters;
  private readonly held = new Set<LockHandle>();
  private readonly context = new LockContext();
  private readonly arming = new WatchdogArming();
  /** What every acquisition and every handle share (one backend per service), created with the backend. */
  private acquisitionContext?: LockAcquisitionContext;
  private handleContext?: LockHandleContext;
  private readonly keys: LockKeyCache;

  /** @internal Nest injects the collaborators; construct through `RedisModule`, never with `new`. */
  constructor(
    @Inject(REDIS_RESOLVED_OPTIONS) private readonly options: ResolvedRedisCoreOptions & { lock: ResolvedLockOptions },
    private readonly registry: RedisConnectionsRegistry,
    private readonly keyspace: RedisKeyspace,
    private readonly instrumentation: RedisInstrumentation,
  ) {
    this.defaults = options.lock;
    this.channel = lockWakeChannel(keyspace);
    this.keys = new LockKeyCache(keyspace);
    this.waiters = new LockWaiters(this.logger, () =>
      this.instrumentation.emit('input.rejected', { source: 'lock.wakeup' }),
    );
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
    const durability = this.defaults.durability;
    if (durability) {
      const client = await this.registry.connect(DEFAULT_REDIS_CONNECTION);
      await checkReplicaAcknowledgement(client, durability, 'lock.durability', 'RedisModule');
    }
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
  beforeApplicationShutdown(): Promise<void> {
    return releaseHeldHandles(this.held);
  }

  onApplicationShutdown(): Promise<void> {
    return closeLockBackend(this.arming, this.backend);
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
  acquire(resource: string, options?: LockOptions): Promise<Lock>;
  /**
   * Acquires several resources, all-or-nothing: every one of them is held, or (on error) none is left held. They are
   * deduplicated and taken in canonical (sorted) order whatever order they are listed in, so callers locking
   * overlapping sets cannot deadlock; `waitTimeout` bounds the whole call.
   *
   * @param resources 1 to 64 distinct names (duplicates are dropped)
   * @throws LockNotAcquiredError naming the resource that was not acquired; RedisOptionsError (`resources`,
   *   `resources[i]`) for an empty or too long list or a bad name
   */
  acquire(resources: readonly string[], options?: LockOptions): Promise<MultiLock>;
  async acquire(resource: string | readonly string[], options: LockOptions = {}): Promise<Lock | MultiLock> {
    if (typeof resource !== 'string' && Array.isArray(resource)) {
      return (await this.obtainAll(resource, this.callOptions(options), false)) as MultiLock;
    }
    const lock = await this.obtain(resource as string, this.callOptions(options), false);
    return lock as Lock;
  }

  /**
   * One attempt: the lock if it is free now, `null` if another owner holds it (or waiters are queued for it).
   *
   * @throws LockNotAcquiredError when Redis (or a Redlock majority) did not answer: `null` always means contention
   */
  tryAcquire(resource: string, options?: Omit<LockOptions, 'waitTimeout'>): Promise<Lock | null>;
  /**
   * One attempt per resource, in canonical order: every lock if all are free now, else `null` with none left held.
   *
   * @throws LockNotAcquiredError when Redis (or a Redlock majority) did not answer (none is left held)
   */
  tryAcquire(resources: readonly string[], options?: Omit<LockOptions, 'waitTimeout'>): Promise<MultiLock | null>;
  async tryAcquire(
    resource: string | readonly string[],
    options: Omit<LockOptions, 'waitTimeout'> = {},
  ): Promise<Lock | MultiLock | null> {
    const call = { ...this.callOptions(options), waitTimeout: 0 };
    if (typeof resource !== 'string' && Array.isArray(resource)) return this.obtainAll(resource, call, true);
    return this.obtain(resource as string, call, true);
  }

  /**
   * Runs `work` under the lock and releases it afterwards, also when `work` throws.
   *
   * @param work receives the lock's `signal` (aborted with `LockLostError` if the lock is lost) and the lock
   * @returns what `work` returns
   * @throws LockNotAcquiredError when not acquired (then `work` did not run); `LockLostError` when the lock was lost
   *   before `work` settled, even if `work` resolved: its effects were not fully protected
   */
  using<T>(
    resource: string,
    options: LockOptions,
    work: (signal: AbortSignal, lock: Lock) => Promise<T> | T,
  ): Promise<T>;
  /**
   * Runs `work` holding every one of `resources` (see `acquire([...])`) and releases them all afterwards.
   * `current(resource)` inside `work` is the lock of that resource.
   *
   * @throws LockNotAcquiredError when not all were acquired (then `work` did not run and none is left held);
   *   `LockLostError` when any of them was lost before `work` settled
   */
  using<T>(
    resources: readonly string[],
    options: LockOptions,
    work: (signal: AbortSignal, lock: MultiLock) => Promise<T> | T,
  ): Promise<T>;
  async using<T>(
    resource: string | readonly string[],
    options: LockOptions,
    work: (signal: AbortSignal, lock: never) => Promise<T> | T,
  ): Promise<T> {
    const multi = typeof resource !== 'string' && Array.isArray(resource);
    const lock: LockHandle | MultiLockHandle = multi
      ? ((await this.obtainAll(resource, this.callOptions(options), false)) as MultiLockHandle)
      : ((await this.obtain(resource as string, this.callOptions(options), false)) as LockHandle);
    const frame = lock instanceof MultiLockHandle ? lock.locks : lock;
    let result: T;
    try {
      result = await this.context.run(frame, () => work(lock.signal, lock as never));
    } finally {
      // Bounded by `releaseTimeout`: an outage cannot hold up the caller, the lock then expires after its ttl.
      await lock.release().catch((error: unknown) => {
        const name = multi ? (resource as readonly string[]).join('", "') : (resource as string);
        this.logger.warn(`Lock "${name}" could not be released (${errorText(error)}); it expires after its ttl.`);
      });
    }
    if (lock.lost) throw lock.lost;
    return result;
  }

  /**
   * The lock held by the current call chain (inside `using` callbacks and `@WithLock` methods, across awaits): the
   * innermost one, or the one on `resource`. Inside a multi-resource `using` / `@WithLock`, ask by resource (the
   * innermost is the lock of the last resource in canonical order).
   */
  current(resource?: string): Lock | undefined {
    return this.context.get(resource);
  }

  /** Merges per-call options over the module defaults, validating them like module options. */
  private callOptions(options: LockOptions): LockCallOptions {
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
    const onWake = this.waiters.onMessage;
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
      sharded: this.registry.pubSub(DEFAULT_REDIS_CONNECTION).sharded,
    });
  }

  /** Several resources: checked, put in canonical order, then acquired one by one (see `acquireInOrder`). */
  private obtainAll(
    resources: readonly string[],
    options: LockCallOptions,
    tryOnly: boolean,
  ): Promise<MultiLockHandle | null> {
    const ordered = canonicalLockResources(resources);
    return acquireInOrder(ordered, options, tryOnly, Date.now(), (resource, call, onlyTry, started) =>
      this.obtain(resource, call, onlyTry, started),
    );
  }

  private async obtain(
    resource: string,
    options: LockCallOptions,
    tryOnly: boolean,
    started = Date.now(),
  ): Promise<LockHandle | null> {
    assertLockResource(resource);
    if (options.signal?.aborted) throw lockNotAcquired(resource, started, 'aborted', this.onFailed);
    let backend: LockBackend;
    try {
      backend = this.ready ?? (await this.getBackend());
    } catch (error) {
      const reason = this.mode === 'redlock' ? 'no-quorum' : 'unreachable';
      throw lockNotAcquired(resource, started, reason, this.onFailed, error);
    }
    const context = (this.acquisitionContext ??= {
      backend,
      waiters: this.waiters,
      driftFactor: this.defaults.driftFactor,
      releaseTimeout: this.defaults.releaseTimeout,
      onFailed: this.onFailed,
      subscriptionsInPlace: new WeakSet(),
    });
    const keys = this.keys.of(resource);
    const token = `${this.instance}.${randomUUID()}`;
    const grant = await new LockAcquisition(context, resource, keys, token, options, started).run(tryOnly);
    if (!grant) return null;
    const { fencingToken, validUntil } = grant;
    this.instrumentation.emit('lock.acquired', {
      waitMs: Date.now() - started,
      mode: backend.mode,
      resource,
      fencingToken,
    });
    const handleContext = (this.handleContext ??= {
      backend,
      releaseTimeout: this.defaults.releaseTimeout,
      arming: this.arming,
      logger: this.logger,
      onSettled: (settled) => {
        this.held.delete(settled);
        if (!this.instrumentation.observes('lock.released')) return;
        this.instrumentation.emit('lock.released', {
          mode: backend.mode,
          resource: settled.resource,
          fencingToken: settled.fencingToken,
          heldMs: Date.now() - settled.grantedAt,
          outcome: settled.lost ? 'lost' : 'released',
        });
      },
      onLost: () => this.instrumentation.emit('lock.lost', { mode: backend.mode }),
    });
    const handle = new LockHandle(resource, token, fencingToken, validUntil, started, keys, options, handleContext);
    this.held.add(handle);
    if (this.defaults.durability) await this.awaitReplicas(handle, keys.lock);
    return handle;
  }

  /** Hash slot of each lock key, on a Cluster with `lock.durability` (asked once per key). */
  private readonly slots = new Map<string, number>();

  /**
   * `lock.durability`: waits for the replicas' acknowledgement of the grant; without it, releases the lock and fails
   * closed, since a failover could grant it again.
   */
  private async awaitReplicas(handle: LockHandle, key: string): Promise<void> {
    const durability = this.defaults.durability!;
    const client = await this.registry.connect(DEFAULT_REDIS_CONNECTION);
    const acked = await awaitReplicaAcknowledgement(client, key, durability, this.slots).catch(() => 0);
    if (acked >= durability.replicas) return;
    await handle.release().catch(() => undefined);
    throw new RedisToolkitError(
      LOCK_NOT_REPLICATED(handle.resource, acked, durability.replicas, durability.timeout),
      'E_LOCK_NOT_REPLICATED',
      { resource: handle.resource },
    );
  }

  private readonly onFailed = (reason: LockNotAcquiredReason, waitMs: number, resource: string): void => {
    this.instrumentation.emit('lock.failed', { waitMs, reason, mode: this.mode, resource });
  };
}
