import { createHash } from 'node:crypto';

/** Arguments serialised below this length are used as they are; longer ones are hashed. */
const INLINE_LIMIT = 64;

/**
 * A deterministic text for a list of arguments: object keys sorted (so `{a, b}` and `{b, a}` give the same key),
 * and types told apart (`1` vs `'1'`, `null` vs `undefined`, Date, BigInt, Map, Set, Buffer).
 */
export function stableStringify(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : `n:${String(value)}`;
    case 'bigint':
      return `${value}n`;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return 'undefined';
    case 'symbol':
    case 'function':
      throw new TypeError(`cannot build a cache key from a ${typeof value}; give the decorator a key function`);
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value instanceof Date) return `D${value.toISOString()}`;
  if (Buffer.isBuffer(value)) return `B${value.toString('base64')}`;
  if (value instanceof Map) {
    const entries = [...value].map(([k, v]) => `${stableStringify(k)}:${stableStringify(v)}`).sort();
    return `M{${entries.join(',')}}`;
  }
  if (value instanceof Set) return `S[${[...value].map(stableStringify).sort().join(',')}]`;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object)
    .filter((k) => object[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(object[k])}`).join(',')}}`;
}

/**
 * The argument part of a default key: short argument lists inline (readable in `redis-cli`), longer ones as a
 * SHA-1 of their stable text (not for security, only for a short, well-spread key).
 */
export function hashArguments(args: readonly unknown[]): string {
  if (args.length === 0) return '-';
  if (args.length === 1) {
    // The common case (one id) without the generic walk; same text as stableStringify([arg]).
    const [arg] = args;
    if (typeof arg === 'number' && Number.isFinite(arg)) return `[${arg}]`;
    if (typeof arg === 'string' && arg.length <= INLINE_LIMIT - 4) return `[${JSON.stringify(arg)}]`;
  }
  const text = stableStringify(args);
  if (text.length <= INLINE_LIMIT) return text;
  return createHash('sha1').update(text).digest('base64url');
}

/** The default key of a decorated method: `Class.method:` + the arguments (so two methods never share entries). */
export function defaultMethodKey(className: string, methodName: string, args: readonly unknown[]): string {
  return `${className}.${methodName}:${hashArguments(args)}`;
}
