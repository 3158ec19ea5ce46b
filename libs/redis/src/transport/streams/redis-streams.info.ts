import type { RedisClient } from '../../connection/redis-connection.factory.js';
import { sendStreamCommand } from './commands/stream-command.js';
import { XINFO_GROUPS } from './commands/xinfo.command.js';
import { XPENDING_SUMMARY } from './commands/xpending.command.js';
import type { RedisStreamKeys } from './redis-stream-keys.js';

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

/** Reads pending entries, dead letters and lag of one stream for `group` (three commands, sent together). */
export async function readStreamInfo(
  client: RedisClient,
  keys: Pick<RedisStreamInfo, 'pattern' | 'stream' | 'group' | 'deadLetterStream'>,
): Promise<RedisStreamInfo> {
  const [pending, deadLetters, groups] = await Promise.all([
    sendStreamCommand(client, XPENDING_SUMMARY, { key: keys.stream, group: keys.group }),
    client.xlen(keys.deadLetterStream),
    sendStreamCommand(client, XINFO_GROUPS, { key: keys.stream }),
  ]);
  const info = groups.find((g) => g.name === keys.group);
  return { ...keys, pending, deadLetters: Number(deadLetters), lag: info?.lag ?? null };
}

/** {@link readStreamInfo} for each event pattern a server consumes, with the stream keys its `keyPrefix` gives. */
export function readStreamsInfo(
  client: RedisClient,
  patterns: readonly string[],
  group: string,
  keys: RedisStreamKeys,
): Promise<RedisStreamInfo[]> {
  return Promise.all(
    patterns.map((pattern) =>
      readStreamInfo(client, {
        pattern,
        stream: keys.stream(pattern),
        group,
        deadLetterStream: keys.deadLetter(pattern),
      }),
    ),
  );
}
