/**
 * Turns packets into the strings that travel through Redis and back. `lossless` says whether the other side is one
 * of ours (it can restore extended types) or a plain JSON peer such as Nest's built-in Redis transport.
 */
export interface RedisTransportCodec {
  /**
   * @param packet a Nest packet (`{ pattern, data, id? }` or `{ id, response, err, isDisposed }`)
   * @param lossless the receiver is ours: extended types may be annotated
   */
  encode(packet: Record<string, unknown>, lossless: boolean): string;
  /**
   * @returns the packet, or whatever foreign value was published (handed to the Nest deserializer as is)
   * @throws when `raw` cannot be read at all (the transport logs it, and dead-letters it in streams mode)
   */
  decode(raw: string): unknown;
}

/** Key holding the type annotations of a lossless packet; Nest's built-in server ignores unknown keys. */
export const TYPES_KEY = '$t';
type Tag = 'D' | 'B';
type Path = Array<string | number>;
const MAX_DEPTH = 64;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function collectTags(value: unknown, path: Path, out: Array<[Path, Tag]>, depth: number): void {
  if (typeof value === 'bigint') {
    out.push([path.slice(), 'B']);
    return;
  }
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return;
  if (value instanceof Date) {
    out.push([path.slice(), 'D']);
    return;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      collectTags(value[i], path, out, depth + 1);
      path.pop();
    }
    return;
  }
  for (const key of Object.keys(value)) {
    path.push(key);
    collectTags((value as Record<string, unknown>)[key], path, out, depth + 1);
    path.pop();
  }
}

/** BigInt has no JSON form: written as a decimal string (restored from the annotation when lossless). */
function replacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

function restore(value: unknown, tag: unknown): unknown {
  if (tag === 'D' && (typeof value === 'string' || value === null)) return new Date(value ?? Number.NaN);
  if (tag === 'B' && typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  throw new Error(`invalid type annotation ${JSON.stringify(tag)}`);
}

function applyTags(packet: Record<string, unknown>, tags: unknown): void {
  if (!Array.isArray(tags)) throw new Error('type annotations must be an array');
  for (const entry of tags) {
    if (!Array.isArray(entry) || entry.length !== 2 || !Array.isArray(entry[0]) || entry[0].length === 0) {
      throw new Error('invalid type annotation');
    }
    const path = entry[0] as unknown[];
    let parent: unknown = packet;
    for (let i = 0; i < path.length - 1; i++) {
      const key = path[i];
      if ((typeof key !== 'string' && typeof key !== 'number') || FORBIDDEN_KEYS.has(String(key))) {
        throw new Error('invalid type annotation path');
      }
      parent = (parent as Record<string, unknown> | null)?.[key];
      if (parent === null || typeof parent !== 'object') throw new Error('type annotation path not found');
    }
    const last = path[path.length - 1];
    if ((typeof last !== 'string' && typeof last !== 'number') || FORBIDDEN_KEYS.has(String(last))) {
      throw new Error('invalid type annotation path');
    }
    const holder = parent as Record<string | number, unknown>;
    holder[last] = restore(holder[last], entry[1]);
  }
}

/**
 * The default codec: JSON, with `Date` and `BigInt` values listed by path under `$t` when the receiver is ours, so
 * they come back as `Date` and `BigInt`. A plain JSON peer sees what `JSON.stringify` makes of them (ISO strings,
 * decimal strings), so packets stay readable by Nest's built-in transport.
 */
export class JsonTransportCodec implements RedisTransportCodec {
  encode(packet: Record<string, unknown>, lossless: boolean): string {
    if (lossless) {
      const tags: Array<[Path, Tag]> = [];
      collectTags(packet, [], tags, 0);
      if (tags.length > 0) return JSON.stringify({ ...packet, [TYPES_KEY]: tags }, replacer);
      return JSON.stringify(packet);
    }
    // A replacer takes JSON.stringify off its fast path: only pay for it when a BigInt is there.
    try {
      return JSON.stringify(packet);
    } catch (error) {
      if (error instanceof TypeError && /BigInt/i.test(error.message)) return JSON.stringify(packet, replacer);
      throw error;
    }
  }

  decode(raw: string): unknown {
    const packet = JSON.parse(raw) as unknown;
    if (packet === null || typeof packet !== 'object' || Array.isArray(packet)) return packet;
    const record = packet as Record<string, unknown>;
    if (TYPES_KEY in record) {
      const tags = record[TYPES_KEY];
      delete record[TYPES_KEY];
      applyTags(record, tags);
    }
    return record;
  }
}
