import type { StreamCommand } from './stream-command.js';
import { asString, parseEntries, type StreamEntry } from './stream-reply.js';

/** What one `XAUTOCLAIM` round needs. */
export interface XAutoClaimInput {
  key: string;
  group: string;
  consumer: string;
  /** Claim entries pending for at least this long, in ms. */
  minIdleMs: number;
  /** Where this round starts (`0-0` first, then the previous round's `next`). */
  cursor: string;
  count: number;
}

/** The parsed `XAUTOCLAIM` reply. */
export interface XAutoClaimReply {
  /** Cursor of the next round (`0-0` once the whole pending list was scanned). */
  next: string;
  /** The entries now owned by this consumer, with their fields (deleted ones left out). */
  entries: StreamEntry[];
  /** Ids of pending entries that no longer exist (trimmed); Redis 7 removes them from the pending list. */
  deleted: string[];
}

/**
 * `XAUTOCLAIM <key> <group> <consumer> <min-idle> <cursor> COUNT <n>`. Reply, the same on RESP2 and RESP3:
 * `[next, [[id, fields]…], [deletedId…]]`; Redis 6.2 sends no third element and `null` placeholders (or
 * `[id, null]`) for deleted entries, which are left out.
 */
export const XAUTOCLAIM: StreamCommand<XAutoClaimInput, XAutoClaimReply> = {
  name: 'XAUTOCLAIM',
  args: ({ key, group, consumer, minIdleMs, cursor, count }) => [
    key,
    group,
    consumer,
    minIdleMs,
    cursor,
    'COUNT',
    count,
  ],
  parse(reply) {
    if (!Array.isArray(reply)) return { next: '0-0', entries: [], deleted: [] };
    const [next, claimed, deleted] = reply as unknown[];
    return {
      next: asString(next) ?? '0-0',
      entries: parseEntries(claimed).filter((entry) => entry.fields !== null),
      deleted: Array.isArray(deleted) ? deleted.flatMap((id) => asString(id) ?? []) : [],
    };
  },
};
