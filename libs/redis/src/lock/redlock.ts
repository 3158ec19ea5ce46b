import type { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { connectionSecrets, describeConnection } from '../connection/describe-connection.js';
import { createRedisClient, type RedisClient, waitUntilReady } from '../connection/redis-connection.factory.js';
import type { ResolvedRedisConnection } from '../interfaces/resolved-redis-options.interface.js';
import { redactSecrets } from '../utils/redact.js';
import type { AttemptResult, ExtendResult, LockBackend, ReleaseResult } from './lock-backend.interface.js';
import type { LockKeys } from './lock-keys.js';
import type { LockNode } from './lock.interface.js';
import { LOCK_NODE_FAILED } from './lock.messages.js';
import { EXTEND, NODE_ACQUIRE, NODE_LEAVE, NODE_RELEASE, RAISE_FENCE } from './scripts/lock.scripts.js';
import { driftFor, withTimeout } from './with-timeout.js';

/** How long a graceful QUIT of a node connection may take at shutdown. */
const QUIT_TIMEOUT_MS = 1_000;
/** How long release waits for a node that does not answer (paused, partitioned). */
const RELEASE_TIMEOUT_MS = 1_000;

interface RedlockNode {
  label: string;
  connection: ResolvedRedisConnection;
  client: Redis;
  subscriber?: Redis;
}

export interface RedlockOptions {
  driftFactor: number;
  channel: string;
  /** How long a release keeps the nodes reserved for the waiter it woke. */
  claimWindowMs: number;
  logger: Logger;
}

type Vote<T> = { ok: true; value: T } | { ok: false; refused: boolean; error?: unknown };

/**
 * Redlock over independent masters: a lock is held when a majority granted it and time is left, measured from the
 * start of the attempt that succeeded (`validity = ttl − elapsed − drift`). Nodes are asked in parallel and the
 * attempt settles as soon as the outcome is known (a majority granted, or a majority can no longer grant). A failed
 * attempt releases on every node, including those that did not answer, so it never blocks its own retry.
 *
 * Node connections are created with the module's connection factory, without an offline queue (a down node fails
 * fast instead of buffering), log one redacted line per outage, and are closed by `close()` at shutdown.
 */
export class Redlock implements LockBackend {
  readonly mode = 'redlock' as const;
  readonly quorum: number;
  private readonly nodes: RedlockNode[];
  private subscribed?: Promise<void>;

  constructor(
    connections: ResolvedRedisConnection[],
    private readonly onWake: (id: string) => void,
    private readonly options: RedlockOptions,
  ) {
    this.quorum = Math.floor(connections.length / 2) + 1;
    this.nodes = connections.map((connection) => {
      const client = createRedisClient({
        ...connection,
        options: { ...connection.options, enableOfflineQueue: false },
      } as ResolvedRedisConnection) as Redis;
      const node: RedlockNode = { label: connection.name, connection, client };
      this.track(node, client);
      return node;
    });
  }

  /** The node connections with their labels and redacted addresses (for health checks). */
  get nodeConnections(): LockNode[] {
    return this.nodes.map(({ label, connection, client }) => ({
      label,
      address: describeConnection(connection),
      client,
    }));
  }

  /** Connects every node, bounded by each node's `connectTimeout`; a node that is down keeps reconnecting. */
  async connect(): Promise<number> {
    const results = await Promise.allSettled(
      this.nodes.map((node) => waitUntilReady(node.client, node.connection.connectTimeout)),
    );
    return results.filter((r) => r.status === 'fulfilled').length;
  }

  async attempt(
    keys: LockKeys,
    token: string,
    ttl: number,
    leaseMs: number,
    timeoutMs: number,
  ): Promise<AttemptResult> {
    const start = Date.now();
    const drift = driftFor(ttl, this.options.driftFactor);
    const nodeTimeout = Math.max(1, Math.min(timeoutMs, ttl - drift));
    // Set once the attempt is decided; a node that answers later reacts to it (leave its queue, or give back its grant).
    let outcome: 'granted' | 'failed' | undefined;
    const votes = await this.poll(
      nodeTimeout,
      (client) =>
        NODE_ACQUIRE.run(
          client,
          [keys.lock, keys.fence, keys.queue, keys.leases],
          [token, ttl, leaseMs > 0 ? 1 : 0, leaseMs],
        ).then((reply) => {
          const [granted, value] = reply as [number, number];
          // Granted elsewhere but refused here (answered late): we are queued on this node, leave the queue.
          if (granted !== 1 && outcome === 'granted') this.leave(client, keys, token);
          return granted === 1 ? { granted: true as const, fence: Number(value) } : { granted: false as const };
        }),
      (value) => value.granted,
    );
    const granted = votes.flatMap((v) => (v.ok && v.value.granted ? [v.value.fence] : []));
    if (granted.length >= this.quorum) {
      const fencingToken = Math.max(...granted);
      if (granted.filter((f) => f === fencingToken).length < this.quorum) {
        // Counters diverged (a node missed grants while down): lift the granting nodes to the token so every later
        // majority, which shares a node with this one, counts above it.
        const raised = await this.poll(
          nodeTimeout,
          (client, i) =>
            votes[i].ok && (votes[i] as { value: { granted: boolean } }).value.granted
              ? RAISE_FENCE.run(client, [keys.fence], [fencingToken]).then(() => true)
              : Promise.resolve(false),
          (ok) => ok,
        );
        if (raised.filter((r) => r.ok && r.value).length < this.quorum) {
          outcome = 'failed';
          this.releaseEverywhere(keys, token);
          return { granted: false, failure: 'no-quorum' };
        }
      }
      const validUntil = start + ttl - drift;
      if (validUntil > Date.now()) {
        outcome = 'granted';
        this.leaveQueues(keys, token, votes);
        return { granted: true, fencingToken, validUntil };
      }
    }
    outcome = 'failed';
    this.releaseEverywhere(keys, token);
    const refused = votes.filter((v) => (v.ok && !v.value.granted) || (!v.ok && v.refused)).length;
    const unreachable = votes.filter((v) => !v.ok && !v.refused).length;
    const error = votes.find((v): v is { ok: false; refused: boolean; error?: unknown } => !v.ok)?.error;
    return {
      granted: false,
      failure: unreachable > this.nodes.length - this.quorum || refused === 0 ? 'no-quorum' : 'contention',
      error,
    };
  }

  async extend(keys: LockKeys, token: string, ttl: number, timeoutMs: number): Promise<ExtendResult> {
    const start = Date.now();
    const drift = driftFor(ttl, this.options.driftFactor);
    const votes = await this.poll(Math.max(1, Math.min(timeoutMs, ttl - drift)), (client) =>
      EXTEND.run(client, [keys.lock], [token, ttl]).then((reply) => reply === 1),
    );
    const extended = votes.filter((v) => v.ok && v.value).length;
    const validUntil = start + ttl - drift;
    if (extended >= this.quorum && validUntil > Date.now()) return { ok: true, validUntil };
    const refused = votes.filter((v) => v.ok && !v.value).length;
    if (refused > this.nodes.length - this.quorum) return { ok: false, failure: 'taken' };
    const error = votes.find((v): v is { ok: false; refused: boolean; error?: unknown } => !v.ok)?.error;
    return { ok: false, failure: 'unreachable', error };
  }

  async release(keys: LockKeys, token: string): Promise<ReleaseResult> {
    // Settles once a majority answered; the other nodes get the same release on their connection regardless.
    const votes = await this.poll(
      RELEASE_TIMEOUT_MS,
      (client) =>
        NODE_RELEASE.run(
          client,
          [keys.lock, keys.fence, keys.queue, keys.leases],
          [token, this.options.channel, 1, this.options.claimWindowMs, 1],
        ).then((reply) => Number(reply)),
      (released) => released > 0,
    );
    const released = votes.filter((v) => v.ok && v.value > 0).length;
    if (released === 0 && votes.every((v) => !v.ok)) {
      const failed = votes.find((v): v is { ok: false; refused: boolean; error?: unknown } => !v.ok && !!v.error);
      throw failed?.error ?? new Error('no Redlock node answered');
    }
    return { owned: released >= this.quorum };
  }

  ensureSubscribed(): Promise<void> {
    this.subscribed ??= Promise.all(
      this.nodes.map(async (node) => {
        if (!node.subscriber) {
          const subscriber = node.client.duplicate({ enableOfflineQueue: true });
          node.subscriber = subscriber;
          this.track(node, subscriber);
          subscriber.on('message', (channel: string, message: string) => {
            if (channel === this.options.channel) this.onWake(message);
          });
        }
        // A down node must not hold up waiting on the others: it subscribes when it comes back.
        await withTimeout(node.subscriber.subscribe(this.options.channel), 500).catch(() => undefined);
      }),
    ).then(() => undefined);
    return this.subscribed;
  }

  async close(): Promise<void> {
    const clients = this.nodes.flatMap((node) => (node.subscriber ? [node.client, node.subscriber] : [node.client]));
    await Promise.all(clients.map((client) => closeClient(client)));
  }

  /**
   * Runs `command` on every node in parallel, each bounded by `timeoutMs`, and resolves as soon as `decided` holds
   * for a majority (or can no longer), leaving stragglers to settle in the background.
   */
  private poll<T>(
    timeoutMs: number,
    command: (client: RedisClient, index: number) => Promise<T>,
    decided: (value: T) => boolean = () => true,
  ): Promise<Array<Vote<T>>> {
    const votes: Array<Vote<T>> = this.nodes.map(() => ({ ok: false, refused: false }));
    return new Promise((resolve) => {
      let settled = 0;
      let yes = 0;
      let no = 0;
      const done = () => resolve(votes);
      this.nodes.forEach((node, index) => {
        withTimeout(command(node.client, index), timeoutMs)
          .then(
            (value) => {
              votes[index] = { ok: true, value };
              if (decided(value)) yes += 1;
              else no += 1;
            },
            (error: unknown) => {
              votes[index] = { ok: false, refused: false, error };
              no += 1;
            },
          )
          .finally(() => {
            settled += 1;
            if (settled === this.nodes.length || yes >= this.quorum || no > this.nodes.length - this.quorum) done();
          });
      });
    });
  }

  /**
   * Fire-and-forget release of a failed attempt on every node (commands are ordered per connection, so it follows
   * the attempt even where it timed out); the token stays registered as a waiter.
   */
  private releaseEverywhere(keys: LockKeys, token: string): void {
    for (const node of this.nodes) {
      NODE_RELEASE.run(
        node.client,
        [keys.lock, keys.fence, keys.queue, keys.leases],
        [token, this.options.channel, 0, this.options.claimWindowMs, 0],
      ).catch(() => undefined);
    }
  }

  /**
   * After a grant, withdraws the token from the waiter queues of the nodes that did not grant it: a stale entry at
   * the head of a queue would be woken by the next release instead of a real waiter.
   */
  private leaveQueues(keys: LockKeys, token: string, votes: Array<Vote<{ granted: boolean }>>): void {
    this.nodes.forEach((node, i) => {
      const vote = votes[i];
      // Refused here: we joined this node's queue. Not answered yet: handled when it answers (see attempt()).
      if (vote.ok && !vote.value.granted) this.leave(node.client, keys, token);
      else if (!vote.ok && vote.error !== undefined) this.leave(node.client, keys, token);
    });
  }

  private leave(client: RedisClient, keys: LockKeys, token: string): void {
    NODE_LEAVE.run(client, [keys.lock, keys.fence, keys.queue, keys.leases], [token]).catch(() => undefined);
  }

  /** Logs the first error of an outage and the recovery, with the node's secrets scrubbed. */
  private track(node: RedlockNode, client: RedisClient): void {
    const secrets = connectionSecrets(node.connection);
    let failing = false;
    client.on('error', (error: Error) => {
      if (failing) return;
      failing = true;
      this.options.logger.warn(
        LOCK_NODE_FAILED(node.label, describeConnection(node.connection), redactSecrets(error.message, secrets)),
      );
    });
    client.on('ready', () => {
      if (failing) this.options.logger.log(`Redlock node "${node.label}" is ready again.`);
      failing = false;
    });
  }
}

async function closeClient(client: RedisClient): Promise<void> {
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  try {
    await withTimeout(client.quit(), QUIT_TIMEOUT_MS);
  } catch {
    client.disconnect();
  }
}
