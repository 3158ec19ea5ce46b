import type { StreamCommand } from './stream-command.js';
import { asNumber, asString } from './stream-reply.js';

/** What an extended `XPENDING` over a range of one consumer's entries needs. */
export interface XPendingRangeInput {
  key: string;
  group: string;
  start: string;
  end: string;
  count: number;
  consumer: string;
}

/**
 * `XPENDING <key> <group> <start> <end> <count> <consumer>`: how often each pending entry was delivered. Reply
 * (RESP2 and RESP3 alike): `[[id, consumer, idleMs, deliveries]…]`, parsed to id → deliveries.
 */
export const XPENDING_RANGE: StreamCommand<XPendingRangeInput, Map<string, number>> = {
  name: 'XPENDING',
  args: ({ key, group, start, end, count, consumer }) => [key, group, start, end, count, consumer],
  parse(reply) {
    const counts = new Map<string, number>();
    if (!Array.isArray(reply)) return counts;
    for (const detail of reply) {
      if (!Array.isArray(detail)) continue;
      const id = asString(detail[0]);
      const deliveries = asNumber(detail[3]);
      if (id !== undefined && deliveries !== undefined) counts.set(id, deliveries);
    }
    return counts;
  },
};

/** What the summary form of `XPENDING` needs. */
export interface XPendingSummaryInput {
  key: string;
  group: string;
}

/**
 * `XPENDING <key> <group>`: the number of entries delivered to the group's consumers and not yet acknowledged.
 * Reply: `[count, smallestId, greatestId, [[consumer, count]…]]` (ids and list `null` when nothing is pending).
 */
export const XPENDING_SUMMARY: StreamCommand<XPendingSummaryInput, number> = {
  name: 'XPENDING',
  args: ({ key, group }) => [key, group],
  parse: (reply) => (Array.isArray(reply) ? (asNumber(reply[0]) ?? 0) : 0),
};
