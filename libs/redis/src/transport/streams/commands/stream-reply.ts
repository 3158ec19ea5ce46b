/**
 * Reply-shape helpers shared by the stream commands. RESP2 sends maps as flat `[key, value, …]` arrays; on RESP3
 * ioredis 6 flattens them the same way, but a custom client or a future version may hand over a `Map` or a plain
 * object: every helper accepts the three.
 */

/** One stream entry: its id and its `[field, value, …]` list (`null` for an entry deleted while pending). */
export interface StreamEntry {
  id: string;
  fields: string[] | null;
}

/** A map-shaped reply (flat array, `Map` or object) as a plain object; anything else as `{}`. */
export function toRecord(raw: unknown): Record<string, unknown> {
  if (raw instanceof Map) return Object.fromEntries(raw);
  if (Array.isArray(raw)) {
    const out: Record<string, unknown> = {};
    for (let i = 0; i + 1 < raw.length; i += 2) out[String(raw[i])] = raw[i + 1];
    return out;
  }
  return raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
}

/** A map-shaped reply as `[key, value]` pairs, keeping repeated keys (a stream's entries keyed by stream name). */
export function toPairs(raw: unknown): Array<[unknown, unknown]> {
  if (raw instanceof Map) return [...raw.entries()];
  if (Array.isArray(raw)) {
    const out: Array<[unknown, unknown]> = [];
    for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i], raw[i + 1]]);
    return out;
  }
  return raw !== null && typeof raw === 'object' ? Object.entries(raw) : [];
}

/** A reply value as a string (ioredis gives strings, or Buffers from its `*Buffer` variants), else `undefined`. */
export function asString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** A reply value as a finite number (integers come as numbers, or as strings inside nested arrays), else `undefined`. */
export function asNumber(value: unknown): number | undefined {
  const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(number) ? number : undefined;
}

/**
 * One `[id, [field, value, …]]` entry, or `undefined` when it is not one. Field values that are not strings
 * become strings (Buffers) or drop their pair, so callers only ever see `string[]`.
 */
export function parseEntry(raw: unknown): StreamEntry | undefined {
  if (!Array.isArray(raw)) return undefined;
  const id = asString(raw[0]);
  if (id === undefined) return undefined;
  const list = raw[1];
  if (list === null) return { id, fields: null };
  if (!Array.isArray(list)) return undefined;
  const fields: string[] = [];
  for (let i = 0; i + 1 < list.length; i += 2) {
    const name = asString(list[i]);
    const value = asString(list[i + 1]);
    if (name !== undefined && value !== undefined) fields.push(name, value);
  }
  return { id, fields };
}

/** A list of entries; items that are not entries (`null` placeholders of deleted ones, junk) are left out. */
export function parseEntries(raw: unknown): StreamEntry[] {
  if (!Array.isArray(raw)) return [];
  const out: StreamEntry[] = [];
  for (const item of raw) {
    const entry = parseEntry(item);
    if (entry) out.push(entry);
  }
  return out;
}

/** The value of field `name` of an entry (the first one, if repeated), or `undefined`. */
export function fieldOf(fields: readonly string[] | null, name: string): string | undefined {
  if (!fields) return undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
