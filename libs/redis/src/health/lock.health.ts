import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { LockNode } from '../lock/lock.interface.js';
import { LockService } from '../lock/lock.service.js';
import { bounded, connectFailure, hasDegradedStatus, roundMs, safeMessage } from './probe-helpers.js';
import type { LockHealthCheckOptions } from './lock-health-options.interface.js';

/** @default 1000 */
const DEFAULT_TIMEOUT_MS = 1_000;

type NodeState =
  { status: 'up'; address?: string; latencyMs: number } | { status: 'down'; address?: string; message: string };

/**
 * Terminus health indicator for the locks of `LockService`. With Redlock nodes configured: up while every node
 * answers, `degraded` while some are down but a quorum still answers (locks can still be taken), down below quorum;
 * each node's state and redacted address (never a password) is in `nodes`. In single-node mode it reports the
 * module's main connection (without its address, like {@link RedisHealthIndicator}).
 *
 * Bounded in time: nodes are PINGed in parallel, each within `timeout`, and a node whose connection is not ready is
 * down at once (its PING never waits behind an offline queue).
 *
 * @example
 * ```ts
 * @Get('ready') @HealthCheck()
 * ready() {
 *   return this.health.check([() => this.redis.isHealthy('redis'), () => this.locks.isHealthy('lock')]);
 * }
 * ```
 */
@Injectable()
export class LockHealthIndicator {
  /** @internal Nest injects the collaborators; list it in your health module's providers, never with `new`. */
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly locks: LockService,
  ) {}

  /**
   * @param key the key of this indicator in the health check result (e.g. `'lock'`)
   * @param options how long each node may take to answer
   */
  async isHealthy<const Key extends string>(
    key: Key,
    { timeout = DEFAULT_TIMEOUT_MS }: LockHealthCheckOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.health.check(key);
    const mode = this.locks.mode;
    let nodes: readonly LockNode[];
    try {
      nodes = await bounded(this.locks.nodes(), timeout, `lock connections not available within ${timeout} ms`);
    } catch (error) {
      return indicator.down({ mode, message: `lock connections are not available: ${connectFailure(error)}` });
    }
    // The main connection's address stays out of the output, as RedisHealthIndicator keeps it out.
    const states = await Promise.all(nodes.map((node) => probe(node, timeout, mode === 'redlock')));

    if (mode === 'single') {
      const state = states[0];
      const details = { mode, connection: nodes[0].label };
      return state.status === 'up'
        ? indicator.up({ ...details, latencyMs: state.latencyMs })
        : indicator.down({ ...details, message: state.message });
    }

    const quorum = this.locks.quorum;
    const answering = states.filter((s) => s.status === 'up').length;
    const details = {
      mode,
      quorum,
      answering,
      nodes: Object.fromEntries(nodes.map((node, i) => [node.label, states[i]])),
    };
    if (answering < quorum) {
      return indicator.down({
        ...details,
        message: `only ${answering} of ${nodes.length} Redlock nodes answer; quorum is ${quorum}`,
      });
    }
    if (answering < nodes.length) {
      const degraded = {
        ...details,
        message: `${nodes.length - answering} of ${nodes.length} Redlock nodes down; the quorum of ${quorum} answers`,
      };
      // terminus 11 has no degraded status: there the lock still serves, so it reports up with the same message.
      return hasDegradedStatus(indicator) ? indicator.degraded(degraded) : indicator.up(degraded);
    }
    return indicator.up(details);
  }
}

/** PINGs one node within `timeout`; a connection that is not ready is down without sending anything. */
async function probe(
  { address: nodeAddress, client }: LockNode,
  timeout: number,
  withAddress: boolean,
): Promise<NodeState> {
  const where = withAddress ? { address: nodeAddress } : {};
  if (client.status !== 'ready') return { status: 'down', ...where, message: `not ready (${client.status})` };
  const started = performance.now();
  try {
    await bounded(client.ping(), timeout, `no answer within ${timeout} ms`);
    return { status: 'up', ...where, latencyMs: roundMs(performance.now() - started) };
  } catch (error) {
    return { status: 'down', ...where, message: safeMessage(error) };
  }
}
