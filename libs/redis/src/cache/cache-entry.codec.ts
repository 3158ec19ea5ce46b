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

/** Decodes what `encodeEntry` wrote; `undefined` for bytes of another format (treated as a miss). */
export function decodeEntry(serializer: CacheSerializer, data: Buffer): CacheEntry | undefined {
  if (!isEntry(data)) return undefined;
  return { createdAt: data.readDoubleBE(1), freshUntil: data.readDoubleBE(9), value: decodeValue(serializer, data) };
}

/** Whether `data` is an entry of this format (the hot path reads its fields without building a `CacheEntry`). */
export function isEntry(data: Buffer): boolean {
  return data.length >= HEADER_BYTES && data[0] === FORMAT;
}

export function entryFreshUntil(data: Buffer): number {
  return data.readDoubleBE(9);
}

export function entryCreatedAt(data: Buffer): number {
  return data.readDoubleBE(1);
}

export function decodeValue(serializer: CacheSerializer, data: Buffer): unknown {
  return serializer.deserializeAt
    ? serializer.deserializeAt(data, HEADER_BYTES)
    : serializer.deserialize(data.subarray(HEADER_BYTES));
}
