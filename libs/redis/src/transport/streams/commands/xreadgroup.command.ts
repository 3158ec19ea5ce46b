import type { StreamCommand } from './stream-command.js';
import { parseEntries, type StreamEntry, toPairs } from './stream-reply.js';

/** What one `XREADGROUP` of new entries (`>`) of one stream needs. */
export interface XReadGroupInput {
  group: string;
  consumer: string;
  count: number;
  /** How long Redis may block waiting for entries, in ms. */
  blockMs: number;
  key: string;
}

/**
 * `XREADGROUP GROUP <group> <consumer> COUNT <n> BLOCK <ms> STREAMS <key> >`: new entries for this consumer.
 * Reply: `null` (timed out), RESP2 `[[stream, entries]]`, or RESP3 (ioredis 6) the stream map flattened to
 * `[stream, entries]` (a `Map`/object from other clients). Parsed to the entries of every stream in the reply.
 */
export const XREADGROUP: StreamCommand<XReadGroupInput, StreamEntry[]> = {
  name: 'XREADGROUP',
  args: ({ group, consumer, count, blockMs, key }) => [
    'GROUP',
    group,
    consumer,
    'COUNT',
    count,
    'BLOCK',
    blockMs,
    'STREAMS',
    key,
    '>',
  ],
  parse(reply) {
    if (reply === null || reply === undefined) return [];
    // RESP2: a list of [stream, entries] pairs; its first item is itself an array.
    if (Array.isArray(reply) && reply.length > 0 && Array.isArray(reply[0])) {
      return reply.flatMap((pair) => (Array.isArray(pair) ? parseEntries(pair[1]) : []));
    }
    return toPairs(reply).flatMap(([, entries]) => parseEntries(entries));
  },
};
