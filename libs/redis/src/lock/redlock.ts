// Slightly over ~300 lines on purpose: the Redlock backend keeps attempt, extend, release and give-back side by side,
// because their safety rests on one invariant (a node's grant is only given back by the attempt that took it);
// quorum polling and node health already live in redlock-quorum.ts and redlock-node.ts.
import type { Logger } from '@nestjs/common';
import type { Redis, RedisOptions } from 'ioredis';
import { describeConnection } from '../connection/describe-connection.js';
import { createRedisClient, type RedisClient, waitUntilReady } from '../connection/redis-connection.factory.js';
import type { ResolvedRedisConnection } from '../connection/resolved-redis-connection.interface.js';
import type { AttemptResult, ExtendResult, LockBackend, ReleaseResult } from './lock-backend.interface.js';
import type { LockKeys } from './lock-keys.js';
import type { LockNode } from './lock.interface.js';
import { closeNodeClient, type RedlockNode, trackNodeHealth } from './redlock-node.js';
import { pollQuorum, type Vote } from './redlock-quorum.js';
import { EXTEND, NODE_ACQUIRE, NODE_LEAVE, NODE_RELEASE, RAISE_FENCE } from './scripts/lock.scripts.js';
import { LockTimeoutError } from '../errors/lock-timeout.error.js';
import { driftFor, lockCommandDeadlines, withTimeout } from './with-timeout.js';

/** How long a fire-and-forget command (giving back a partial grant, leaving a queue) may stay pending. */
const BACKGROUND_TIMEOUT_MS = 60_000;

export interface RedlockOptions {
  driftFactor: number;
  /** Shared wake channel; wake-ups of this instance's waiters come on `<channel>:<instance>`. */
  channel: string;
  /** This LockService's instance id: the prefix of its tokens, naming its own wake channel. */
  instance: string;
  /** How long a release keeps the nodes reserved for the waiter it woke. */
  claimWindowMs: number;
  logger: Logger;
}

/**
 * Redlock over independent masters: a lock is held when a majority granted it and time is left, measured from the
 * start of the attempt that succeeded (`validity = ttl − elapsed − drift`). Nodes are asked in parallel and the
 * attempt settles as soon as the outcome is known (a majority granted, or a majority can no longer grant). A failed
 * attempt releases on every node that granted it or did not answer (also when that answer comes late), so it never
 * blocks its own retry.
 *
 * Node connections are created with the module's connection factory, without an offline queue (a down node fails
 * fast instead of buffering), log one redacted line per outage, and are closed by `close()` at shutdown.
 */
export class Redlock implements LockBackend {
  readonly mode = 'redlock' as const;
  readonly quorum: number;
  private readonly nodes: RedlockNode[];
  private subscribed?: Promise<void>;
  private readonly deadlines = lockCommandDeadlines();
  private readonly ownChannel: string;
  /**
   * Per token with node commands still in flight: the serial of its latest attempt and how many of its attempts
   * have unanswered nodes. A retry reuses the token, so an answer of an older attempt that comes late must not give
   * back (owner-checked by token, hence indistinguishable) a grant the newer attempt, queued behind it on the same
   * connection, re-took: that deleted a lock its holder still counted in its quorum, and two holders overlapped.
   */
  private readonly inFlight = new Map<string, { latest: number; open: number }>();
  private serial = 0;

  constructor(
    connections: ResolvedRedisConnection[],
    /** Handles a message of a wake-up channel (anyone may publish anything there; it must never throw). */
    private readonly onWake: (channel: string, message: string) => void,
    private readonly options: RedlockOptions,
  ) {
    this.quorum = Math.floor(connections.length / 2) + 1;
    this.ownChannel = `${options.channel}:${options.instance}`;
    this.nodes = connections.map((connection) => {
      // Fail fast on a node that is down: no offline queue, and commands in flight when its connection drops fail
      // at once (maxRetriesPerRequest 0) instead of waiting to be resent after a reconnection, which held an
      // attempt whose other nodes split one to one until its deadline (the whole `waitTimeout`).
      const client = createRedisClient({
        ...connection,
        options: { ...connection.options, enableOfflineQueue: false, maxRetriesPerRequest: 0 },
      } as ResolvedRedisConnection) as Redis;
      const node: RedlockNode = { label: connection.name, connection, client };
      trackNodeHealth(node, client, this.options.logger);
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
    retry = true,
  ): Promise<AttemptResult> {
    const start = Date.now();
    const drift = driftFor(ttl, this.options.driftFactor);
    const nodeTimeout = Math.max(1, Math.min(timeoutMs, ttl - drift));
    // Set once the attempt is decided; a node that answers later reacts to it (leave its queue, or give back its grant).
    let outcome: 'granted' | 'failed' | undefined;
    const serial = this.openAttempt(token);
    let unanswered = this.nodes.length;
    // A late grant is given back only while no newer attempt of the token was sent: that one's answer, which comes
    // after this one on the node's connection, decides what happens to it.
    const superseded = () => (this.inFlight.get(token)?.latest ?? serial) > serial;
    const votes = await pollQuorum(
      this.nodes,
      this.quorum,
      (client) =>
        NODE_ACQUIRE.run(
          client,
          [keys.lock, keys.fence, keys.queue, keys.leases],
          [token, ttl, leaseMs > 0 ? 1 : 0, leaseMs, retry ? 1 : 0],
          this.deadlines,
          nodeTimeout,
        )
          .then(
            (reply) => {
              const [granted, value] = reply as [number, number];
              // Answered after the attempt was decided: granted here but the attempt failed, give it back; refused
              // here but granted elsewhere, we are queued on this node: leave the queue.
              if (granted === 1 && outcome === 'failed' && !superseded()) this.giveBack(client, keys, token);
              else if (granted !== 1 && outcome === 'granted') this.leave(client, keys, token);
              return granted === 1 ? { granted: true as const, fence: Number(value) } : { granted: false as const };
            },
            (error: unknown) => {
              // No answer in time after the attempt failed: it may still run, and the release queued behind it on
              // this connection undoes it (unless a newer attempt was queued first: its own answer decides). After a
              // grant, it may have queued us here: leave (the holder's release no longer does).
              if (outcome === 'failed' && !superseded()) this.giveBack(client, keys, token);
              else if (outcome === 'granted') this.leave(client, keys, token);
              throw error;
            },
          )
          .finally(() => {
            unanswered -= 1;
            if (unanswered === 0) this.closeAttempt(token);
          }),
      (value) => value.granted,
    );
    const granted = votes.flatMap((v) => (v.ok && v.value.granted ? [v.value.fence] : []));
    if (granted.length >= this.quorum) {
      const fencingToken = Math.max(...granted);
      if (granted.filter((f) => f === fencingToken).length < this.quorum) {
        // Counters diverged (a node missed grants while down): lift the granting nodes to the token so every later
        // majority, which shares a node with this one, counts above it.
        const raised = await pollQuorum(
          this.nodes,
          this.quorum,
          (client, i) =>
            votes[i].ok && (votes[i] as { value: { granted: boolean } }).value.granted
              ? RAISE_FENCE.run(client, [keys.fence], [fencingToken], this.deadlines, nodeTimeout).then(() => true)
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
    this.releaseEverywhere(keys, token, votes);
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
    const nodeTimeout = Math.max(1, Math.min(timeoutMs, ttl - drift));
    const votes = await pollQuorum(this.nodes, this.quorum, (client) =>
      EXTEND.run(client, [keys.lock], [token, ttl], this.deadlines, nodeTimeout).then((reply) => reply === 1),
    );
    const extended = votes.filter((v) => v.ok && v.value).length;
    const validUntil = start + ttl - drift;
    if (extended >= this.quorum && validUntil > Date.now()) return { ok: true, validUntil };
    const refused = votes.filter((v) => v.ok && !v.value).length;
    if (refused > this.nodes.length - this.quorum) return { ok: false, failure: 'taken' };
    const error = votes.find((v): v is { ok: false; refused: boolean; error?: unknown } => !v.ok)?.error;
    return { ok: false, failure: 'unreachable', error };
  }

  async release(keys: LockKeys, token: string, leave: boolean, timeoutMs: number): Promise<ReleaseResult> {
    // Settles once a majority answered; the other nodes get the same release on their connection regardless. A
    // holder is in no queue (the grant took it out where it was granted, `leaveQueues` elsewhere), so only a waiter
    // giving up (`leave`) pays for leaving one.
    const votes = await pollQuorum(
      this.nodes,
      this.quorum,
      (client) => this.releaseOn(client, keys, token, leave, true, timeoutMs).then((reply) => Number(reply)),
      (released) => released > 0,
    );
    const released = votes.filter((v) => v.ok && v.value > 0).length;
    if (released >= this.quorum) return { owned: true };
    // A majority answered that the token no longer owns the lock: it was lost (or released) before.
    const refused = votes.filter((v) => v.ok && v.value === 0).length;
    if (refused > this.nodes.length - this.quorum) return { owned: false };
    // Too few answers to tell: report why (a timeout first, so the caller sees that Redis did not answer).
    const errors = votes.flatMap((v) => (!v.ok && v.error !== undefined ? [v.error] : []));
    throw errors.find((e) => e instanceof LockTimeoutError) ?? errors[0] ?? new Error('no Redlock node answered');
  }

  ensureSubscribed(): Promise<void> {
    this.subscribed ??= Promise.all(
      this.nodes.map(async (node) => {
        if (!node.subscriber) {
          // The node's own retry setting: a SUBSCRIBE sent while the node reconnects waits in the offline queue.
          const subscriber = node.client.duplicate({
            enableOfflineQueue: true,
            maxRetriesPerRequest: (node.connection.options as RedisOptions).maxRetriesPerRequest,
          });
          node.subscriber = subscriber;
          trackNodeHealth(node, subscriber, this.options.logger);
          subscriber.on('message', (channel: string, message: string) => {
            if (channel === this.ownChannel || channel === this.options.channel) this.onWake(channel, message);
          });
        }
        // A down node must not hold up waiting on the others: it subscribes when it comes back. The shared channel
        // only carries wake-ups published by older versions (tokens without an instance).
        await withTimeout(node.subscriber.subscribe(this.ownChannel, this.options.channel), 500).catch(() => undefined);
      }),
    ).then(() => undefined);
    return this.subscribed;
  }

  async close(): Promise<void> {
    this.deadlines.clear();
    const clients = this.nodes.flatMap((node) => (node.subscriber ? [node.client, node.subscriber] : [node.client]));
    await Promise.all(clients.map((client) => closeNodeClient(client)));
  }

  /** Registers an attempt of `token` as the newest, with nodes still to answer; returns its serial. */
  private openAttempt(token: string): number {
    const serial = ++this.serial;
    const entry = this.inFlight.get(token);
    if (entry) {
      entry.latest = serial;
      entry.open += 1;
    } else {
      this.inFlight.set(token, { latest: serial, open: 1 });
    }
    return serial;
  }

  /** Every node answered (or failed) an attempt of `token`: forget the token once none of its attempts is open. */
  private closeAttempt(token: string): void {
    const entry = this.inFlight.get(token);
    if (entry && --entry.open === 0) this.inFlight.delete(token);
  }

  /**
   * Fire-and-forget release of a failed attempt on every node that may hold it: all of them, or (given the
   * attempt's votes) those that granted it or failed to answer. A node that refused holds nothing of ours, and one
   * still pending gives its grant back when it answers (see `attempt`). Commands are ordered per connection, so the
   * release follows the attempt even where it timed out; the token stays registered as a waiter.
   */
  private releaseEverywhere(keys: LockKeys, token: string, votes?: Array<Vote<{ granted: boolean }>>): void {
    this.nodes.forEach((node, i) => {
      const vote = votes?.[i];
      if (vote && (vote.ok ? !vote.value.granted : vote.error === undefined)) return;
      this.giveBack(node.client, keys, token);
    });
  }

  /** Releases a grant of a failed attempt on one node, without waking anyone (the majority's holder still works). */
  private giveBack(client: RedisClient, keys: LockKeys, token: string): void {
    this.releaseOn(client, keys, token, false, false, BACKGROUND_TIMEOUT_MS).catch(() => undefined);
  }

  /**
   * The owner-checked release script on one node; `leave` also takes the token out of the node's queue, `wake`
   * reserves the node for the next waiter and wakes it.
   */
  private releaseOn(
    client: RedisClient,
    keys: LockKeys,
    token: string,
    leave: boolean,
    wake: boolean,
    timeoutMs: number,
  ) {
    return NODE_RELEASE.run(
      client,
      [keys.lock, keys.fence, keys.queue, keys.leases],
      [token, this.options.channel, leave ? 1 : 0, this.options.claimWindowMs, wake ? 1 : 0],
      this.deadlines,
      timeoutMs,
    );
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
    NODE_LEAVE.run(
      client,
      [keys.lock, keys.fence, keys.queue, keys.leases],
      [token],
      this.deadlines,
      BACKGROUND_TIMEOUT_MS,
    ).catch(() => undefined);
  }
}
