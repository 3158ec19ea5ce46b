import type { CacheSerializer } from './cache-serializer.interface.js';

/** First byte: plain JSON (decoded by a bare `JSON.parse`), or JSON with tagged values (revived after parsing). */
const PLAIN = 0x4a; // 'J'
const TAGGED = 0x54; // 'T'
/** The property marking a tagged value; a user object holding it is escaped, so nothing can be mistaken. */
const TAG = '\u0000';

type Tagged = { [TAG]: string; v?: unknown };

const TYPED_ARRAYS: Record<string, new (buffer: ArrayBuffer) => ArrayBufferView> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};

/** Whether `value` is made only of JSON's own types (so `JSON.stringify` / `JSON.parse` round-trip it exactly). */
function isPlainJson(value: unknown, depth = 0): boolean {
  if (depth > 256) throw new TypeError('cannot cache a value nested deeper than 256 levels (circular?)');
  if (value === null) return true;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object':
      break;
    default:
      return false;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!isPlainJson(value[i], depth + 1)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    // Class instances are stored as their own enumerable properties (like structured clone), unless special.
    if (value instanceof Date || value instanceof Map || value instanceof Set || value instanceof RegExp) return false;
    if (ArrayBuffer.isView(value)) return false;
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
  }
  for (const key in value) {
    if (key === TAG) return false;
    if (!isPlainJson((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}

/** Assigns an own property, `__proto__` included (a plain assignment would change the prototype instead). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function encode(value: unknown, depth = 0): unknown {
  if (depth > 256) throw new TypeError('cannot cache a value nested deeper than 256 levels (circular?)');
  switch (typeof value) {
    case 'undefined':
      return { [TAG]: 'u' };
    case 'bigint':
      return { [TAG]: 'n', v: value.toString() };
    case 'number':
      if (Number.isFinite(value) && !Object.is(value, -0)) return value;
      return { [TAG]: 'f', v: Object.is(value, -0) ? '-0' : String(value) };
    case 'string':
    case 'boolean':
      return value;
    case 'function':
    case 'symbol':
      throw new TypeError(`cannot cache a ${typeof value}`);
  }
  if (value === null) return null;
  if (Array.isArray(value)) return value.map((item) => encode(item, depth + 1));
  if (value instanceof Date) return { [TAG]: 'D', v: Number.isNaN(value.getTime()) ? null : value.getTime() };
  if (value instanceof Map)
    return { [TAG]: 'M', v: [...value].map(([k, v]) => [encode(k, depth + 1), encode(v, depth + 1)]) };
  if (value instanceof Set) return { [TAG]: 'S', v: [...value].map((item) => encode(item, depth + 1)) };
  if (value instanceof RegExp) return { [TAG]: 'R', v: [value.source, value.flags] };
  if (Buffer.isBuffer(value)) return { [TAG]: 'B', v: value.toString('base64') };
  if (ArrayBuffer.isView(value)) {
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    return { [TAG]: 'A', v: [value.constructor.name, bytes.toString('base64')] };
  }
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key in source) setOwn(out, key, encode(source[key], depth + 1));
  // A user object that happens to hold the tag property is wrapped, so it is never read back as a tagged value.
  return TAG in source ? { [TAG]: 'O', v: out } : out;
}

function revive(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = revive(value[i]);
    return value;
  }
  const object = value as Record<string, unknown>;
  if (typeof object[TAG] === 'string') {
    const { v } = object as Tagged;
    switch ((object as Tagged)[TAG]) {
      case 'u':
        return undefined;
      case 'n':
        return BigInt(v as string);
      case 'f':
        return Number(v);
      case 'D':
        return new Date(v === null ? Number.NaN : (v as number));
      case 'M':
        return new Map((v as Array<[unknown, unknown]>).map(([k, item]) => [revive(k), revive(item)]));
      case 'S':
        return new Set((v as unknown[]).map(revive));
      case 'R':
        return new RegExp(...(v as [string, string]));
      case 'B':
        return Buffer.from(v as string, 'base64');
      case 'A': {
        const [type, base64] = v as [string, string];
        const bytes = Buffer.from(base64, 'base64');
        const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
        const Typed = TYPED_ARRAYS[type] ?? Uint8Array;
        return new Typed(copy as ArrayBuffer);
      }
      case 'O': {
        const inner = v as Record<string, unknown>;
        for (const key in inner) setOwn(inner, key, revive(inner[key]));
        return inner;
      }
    }
  }
  for (const key in object) setOwn(object, key, revive(object[key]));
  return object;
}

/**
 * The default serializer: JSON, with the types JSON loses written as tagged values (Date, BigInt, Map, Set,
 * Buffer and typed arrays, RegExp, `undefined`, NaN, ±Infinity, -0), so they round-trip exactly. Why this one:
 * - speed where it counts: values made of JSON's own types (most results) are stored as plain JSON behind a
 *   marker byte, so a cache hit costs one `JSON.parse`; only values holding special types pay for reviving;
 * - values come back in the caller's realm (`instanceof Date` holds under Jest's VM contexts too, which
 *   `v8.deserialize` does not guarantee);
 * - entries stay readable in `redis-cli` and decodable from other languages.
 * Class instances and null-prototype objects come back as plain objects (their own enumerable properties);
 * functions and symbols are refused.
 * Use `V8CacheSerializer` for structured-clone semantics (cycles, shared references).
 */
export class TaggedJsonCacheSerializer implements CacheSerializer {
  readonly name = 'tagged-json';

  serialize(value: unknown): Buffer {
    if (isPlainJson(value)) return Buffer.from(String.fromCharCode(PLAIN) + JSON.stringify(value));
    return Buffer.from(String.fromCharCode(TAGGED) + JSON.stringify(encode(value)));
  }

  deserialize(data: Buffer): unknown {
    return this.deserializeAt(data, 0);
  }

  deserializeAt(data: Buffer, offset: number): unknown {
    const marker = data[offset];
    const text = data.toString('utf8', offset + 1);
    if (marker === PLAIN) return JSON.parse(text);
    if (marker === TAGGED) return revive(JSON.parse(text));
    throw new TypeError('unknown cache payload format');
  }
}
