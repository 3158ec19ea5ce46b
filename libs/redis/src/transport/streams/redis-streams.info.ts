import type { RedisClient } from '../../connection/redis-connection.factory.js';

/** The backlog of one event pattern's stream for the server's consumer group, as `RedisTransportServer.streamsInfo()` reads it. */
export interface RedisStreamInfo {
  /** The event pattern (`booking.created`). */
  pattern: string;
  /** Redis key of the stream. */
  stream: string;
  /** The consumer group. */
  group: string;
  /** Redis key of the dead-letter stream. */
  deadLetterStream: string;
  /** Entries delivered to a consumer of the group and not yet acknowledged (`XPENDING`). */
  pending: number;
  /** Entries in the dead-letter stream (`XLEN`). */
  deadLetters: number;
  /**
   * Entries of the stream not yet delivered to the group (`XINFO GROUPS` lag, Redis 7+); `null` when Redis cannot
   * tell (older Redis, or after entries were deleted from the middle of the stream).
   */
  lag: number | null;
}

/** An XINFO reply entry as an object: RESP2 gives a flat `[key, value, …]` array, RESP3 a map. */
export function toRecord(raw: unknown): Record<string, unknown> {
  if (raw instanceof Map) return Object.fromEntries(raw);
  if (!Array.isArray(raw)) return (raw ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) out[String(raw[i])] = raw[i + 1];
  return out;
}

/** Reads pending entries, dead letters and lag of one stream for `group` (three commands, sent together). */
export async function readStreamInfo(
  client: RedisClient,
  keys: Pick<RedisStreamInfo, 'pattern' | 'stream' | 'group' | 'deadLetterStream'>,
): Promise<RedisStreamInfo> {
  const [summary, deadLetters, groups] = await Promise.all([
    client.call('XPENDING', keys.stream, keys.group) as Promise<unknown[]>,
    client.xlen(keys.deadLetterStream),
    client.call('XINFO', 'GROUPS', keys.stream) as Promise<unknown[]>,
  ]);
  const info = groups.map(toRecord).find((g) => String(g.name) === keys.group);
  const lag = info?.lag;
  return {
    ...keys,
    pending: Number(summary?.[0] ?? 0),
    deadLetters: Number(deadLetters),
    lag: lag === null || lag === undefined ? null : Number(lag),
  };
}
