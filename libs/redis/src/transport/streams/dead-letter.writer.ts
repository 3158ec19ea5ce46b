import { createHash } from 'node:crypto';
import type { RedisClient } from '../../connection/redis-connection.factory.js';

/** Bytes of an oversized payload kept in its dead letter: enough to recognise it, not to copy it. */
export const DEAD_LETTER_EXCERPT_BYTES = 1_024;
/** Longest error text kept in a dead letter (a handler may throw a message as big as its input). */
export const DEAD_LETTER_ERROR_BYTES = 8_192;

/** Where dead letters of one stream go, and how big they may be. */
export interface DeadLetterTarget {
  /** The pattern's stream and its dead-letter stream. */
  key: string;
  deadKey: string;
  pattern: string;
  group: string;
  consumer: string;
  /** `streams.deadLetterMaxLen`: the dead-letter stream is trimmed to about this many entries. */
  maxLen: number;
  /** `maxPayloadBytes`: payloads up to this size are kept whole; bigger ones as an excerpt with size and hash. */
  maxPayloadBytes: number;
}

/** The longest prefix of `text` of at most `maxBytes` UTF-8 bytes, never cutting a character in two. */
export function utf8Prefix(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  while (end < text.length) {
    const code = text.codePointAt(end)!;
    const size = code < 0x80 ? 1 : code < 0x800 ? 2 : code <= 0xffff ? 3 : 4;
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += code > 0xffff ? 2 : 1;
  }
  return text.slice(0, end);
}

/**
 * The `payload` fields of a dead letter: the payload itself when it is at most `maxPayloadBytes` (it can be fixed
 * and replayed), else its first {@link DEAD_LETTER_EXCERPT_BYTES} bytes with `payloadBytes`, `payloadSha256` and
 * `payloadTruncated: '1'`. A rejected 5 MB entry must not be copied whole into another stream.
 */
export function deadLetterPayloadFields(payload: string, maxPayloadBytes: number): string[] {
  const bytes = payload.length * 3 <= maxPayloadBytes ? 0 : Buffer.byteLength(payload, 'utf8');
  if (bytes <= maxPayloadBytes) return ['payload', payload];
  return [
    'payload',
    utf8Prefix(payload, DEAD_LETTER_EXCERPT_BYTES),
    'payloadBytes',
    String(bytes),
    'payloadSha256',
    createHash('sha256').update(payload, 'utf8').digest('hex'),
    'payloadTruncated',
    '1',
  ];
}

/** The error text of a dead letter, cut to {@link DEAD_LETTER_ERROR_BYTES} bytes (marked with `…`). */
export function deadLetterError(error: string): string {
  const kept = utf8Prefix(error, DEAD_LETTER_ERROR_BYTES);
  return kept.length === error.length ? error : `${kept}…`;
}

/**
 * Moves entries to the pattern's dead-letter stream: one `MULTI` of `XADD <dead> MAXLEN ~ n * …` and the `XACK`
 * of the entry, so an entry is never both dead-lettered and still pending (both keys share the pattern's hash tag).
 */
export class DeadLetterWriter {
  constructor(
    private readonly client: RedisClient,
    private readonly target: DeadLetterTarget,
  ) {}

  /**
   * @param payload what the entry carried (its packet field, or all its fields as JSON when that is missing)
   * @throws the Redis error when the transaction failed: the entry then stays pending and is reclaimed later
   */
  async write(id: string, payload: string, error: string, attempts: number): Promise<void> {
    const { key, deadKey, pattern, group, consumer, maxLen, maxPayloadBytes } = this.target;
    const results = await this.client
      .multi()
      .xadd(
        deadKey,
        'MAXLEN',
        '~',
        maxLen,
        '*',
        'pattern',
        pattern,
        'stream',
        key,
        'id',
        id,
        'group',
        group,
        'consumer',
        consumer,
        'attempts',
        String(attempts),
        'error',
        deadLetterError(error),
        ...deadLetterPayloadFields(payload, maxPayloadBytes),
        'failedAt',
        new Date().toISOString(),
      )
      .xack(key, group, id)
      .exec();
    const failed = results?.find(([err]) => err);
    if (!results || failed) throw failed?.[0] ?? new Error('dead-lettering transaction aborted');
  }
}
