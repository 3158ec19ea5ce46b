import type { StreamCommand } from './stream-command.js';
import { asNumber, asString, toRecord } from './stream-reply.js';

/** One consumer of a group as `XINFO CONSUMERS` describes it. */
export interface StreamConsumerInfo {
  name: string;
  /** Entries delivered to it and not yet acknowledged. */
  pending: number;
  /** Milliseconds since its last attempted interaction. */
  idleMs: number;
}

/** One group of a stream as `XINFO GROUPS` describes it. */
export interface StreamGroupInfo {
  name: string;
  /** Entries not yet delivered to the group; `null` when Redis cannot tell (before 7.0, or after deletions). */
  lag: number | null;
}

/**
 * `XINFO CONSUMERS <key> <group>`. Reply: a list of maps, flat `[name, …, pending, …, idle, …]` arrays on RESP2
 * and (flattened by ioredis 6) on RESP3. Entries without a name, `pending` or `idle` are left out.
 */
export const XINFO_CONSUMERS: StreamCommand<{ key: string; group: string }, StreamConsumerInfo[]> = {
  name: 'XINFO',
  args: ({ key, group }) => ['CONSUMERS', key, group],
  parse(reply) {
    if (!Array.isArray(reply)) return [];
    return reply.flatMap((raw) => {
      const info = toRecord(raw);
      const name = asString(info.name);
      const pending = asNumber(info.pending);
      const idleMs = asNumber(info.idle);
      // Left out rather than guessed: the pruner removes consumers by these numbers.
      if (name === undefined || pending === undefined || idleMs === undefined) return [];
      return [{ name, pending, idleMs }];
    });
  },
};

/** `XINFO GROUPS <key>`: the stream's groups with their lag (same map shapes as {@link XINFO_CONSUMERS}). */
export const XINFO_GROUPS: StreamCommand<{ key: string }, StreamGroupInfo[]> = {
  name: 'XINFO',
  args: ({ key }) => ['GROUPS', key],
  parse(reply) {
    if (!Array.isArray(reply)) return [];
    return reply.flatMap((raw) => {
      const info = toRecord(raw);
      const name = asString(info.name);
      if (name === undefined) return [];
      return [{ name, lag: info.lag === null || info.lag === undefined ? null : (asNumber(info.lag) ?? null) }];
    });
  },
};
