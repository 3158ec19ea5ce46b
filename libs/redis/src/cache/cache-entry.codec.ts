import type { RejectedInputReporter } from '../utils/rejected-input.reporter.js';
import type { CacheSerializer } from './serializers/cache-serializer.interface.js';

/** Format version byte, so a future layout can be told apart from this one. */
const FORMAT = 1;
const HEADER_BYTES = 1 + 8 + 8;

/** A decoded cache entry: the value and when it was written and stops being fresh (epoch ms). */
export interface CacheEntry {
  value: unknown;
  createdAt: number;
  freshUntil: number;
}

/**
 * The bytes stored in Redis for one entry: `[format u8][createdAt f64][freshUntil f64][serialized value]`. The
 * header lets any replica tell fresh from stale and report the entry's age without decoding the value, and a
 * stored `null` is a present entry: a miss is only ever a missing key.
 */
export function encodeEntry(
  serializer: CacheSerializer,
  value: unknown,
  createdAt: number,
  freshUntil: number,
): Buffer {
  const body = serializer.serialize(value);
  const payload = typeof body === 'string' ? Buffer.from(body) : body;
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out.writeUInt8(FORMAT, 0);
  out.writeDoubleBE(createdAt, 1);
  out.writeDoubleBE(freshUntil, 9);
  out.set(payload, HEADER_BYTES);
  return out;
}

/**
 * Decodes what `encodeEntry` wrote; `undefined` for bytes of another format or whose value does not decode (anyone
 * who can write under the key prefix can store anything there): treated as a miss, and reported when `rejected`
 * is given. Never throws.
 */
export function decodeEntry(
  serializer: CacheSerializer,
  data: Buffer,
  rejected?: RejectedInputReporter,
): CacheEntry | undefined {
  if (!isEntry(data)) return undefined;
  const value = decodeEntryValue(serializer, data, rejected);
  if (value === CORRUPT_ENTRY) return undefined;
  return { createdAt: entryCreatedAt(data), freshUntil: entryFreshUntil(data), value };
}

/** Whether `data` is an entry of this format (the hot path reads its fields without building a `CacheEntry`). */
export function isEntry(data: Buffer): boolean {
  return data.length >= HEADER_BYTES && data[0] === FORMAT;
}

/** What {@link decodeEntryValue} answers for an entry whose value does not decode. */
export const CORRUPT_ENTRY: unique symbol = Symbol('nest-redis:corrupt-cache-entry');

/**
 * The value of an entry (`isEntry(data)` already checked), or {@link CORRUPT_ENTRY} when it does not decode: reported
 * when `rejected` is given, and read as a miss by the caller. Never throws; decodes once, with no object built on
 * the hot path.
 */
export function decodeEntryValue(serializer: CacheSerializer, data: Buffer, rejected?: RejectedInputReporter): unknown {
  try {
    return serializer.deserializeAt
      ? serializer.deserializeAt(data, HEADER_BYTES)
      : serializer.deserialize(data.subarray(HEADER_BYTES));
  } catch (error) {
    reportCorrupt(rejected, data, error);
    return CORRUPT_ENTRY;
  }
}

export function entryFreshUntil(data: Buffer): number {
  return data.readDoubleBE(9);
}

export function entryCreatedAt(data: Buffer): number {
  return data.readDoubleBE(1);
}

function reportCorrupt(rejected: RejectedInputReporter | undefined, data: Buffer, error: unknown): void {
  // The error's name only: a parser's message quotes the bytes it choked on.
  const reason = `a ${data.length}-byte entry whose value does not decode (${(error as Error | undefined)?.name ?? 'error'}); read as a miss`;
  rejected?.reject('cache.entry', 'a cache entry', reason);
}
