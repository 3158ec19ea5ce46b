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

/**
 * Longest cache key (or tag) stored as it is. Keys usually embed user input (a search string, a slug), so their
 * length must not be the caller's choice: it would set the size of every Redis key, L1 entry and bus message.
 */
export const MAX_CACHE_KEY_LENGTH = 256;
/** Characters of an over-long key kept readable in front of its hash: the bounded key is then 257 characters. */
const BOUNDED_HEAD_LENGTH = MAX_CACHE_KEY_LENGTH - 43;
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * The key actually used for `key`: itself up to {@link MAX_CACHE_KEY_LENGTH} characters; beyond that, its first
 * 213 characters, `#`, and the SHA-256 of the whole key (base64url, 43 characters). A bounded key is 257 (or 258)
 * characters, longer than any key used as it is, so the two kinds never meet, and two over-long keys share a Redis
 * key only if SHA-256 collides: no silent collisions, at a fixed size.
 */
export function boundCacheKey(key: string): string {
  if (key.length <= MAX_CACHE_KEY_LENGTH) return key;
  // Never cut a surrogate pair in two (the head would be stored as U+FFFD): keep the whole pair.
  const head = /[\uD800-\uDBFF]/.test(key[BOUNDED_HEAD_LENGTH - 1]!) ? BOUNDED_HEAD_LENGTH + 1 : BOUNDED_HEAD_LENGTH;
  return `${key.slice(0, head)}#${createHash('sha256').update(key).digest('base64url')}`;
}

/**
 * Rejects what cannot be a cache key or tag: a non-string, an empty string, or a string with a lone UTF-16
 * surrogate (Redis stores keys as UTF-8, where every lone surrogate becomes U+FFFD, so distinct keys would collide).
 * @param what `'cache key'` or `'cache tag'`, for the message
 * @throws TypeError
 */
export function assertCacheKey(key: unknown, what = 'cache key'): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) throw new TypeError(`a ${what} must be a non-empty string`);
  if (LONE_SURROGATE.test(key)) {
    throw new TypeError(`a ${what} must be well-formed Unicode: it holds a lone UTF-16 surrogate`);
  }
}

/** The default key of a decorated method: `Class.method:` + the arguments (so two methods never share entries). */
export function defaultMethodKey(className: string, methodName: string, args: readonly unknown[]): string {
  return `${className}.${methodName}:${hashArguments(args)}`;
}
