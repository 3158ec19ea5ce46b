import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { TaggedJsonCacheSerializer } from '@app/redis';
import { JsonTransportCodec } from '@app/redis/transport';
import {
  MAX_CACHE_KEY_LENGTH,
  assertCacheKey,
  boundCacheKey,
  defaultMethodKey,
  stableStringify,
} from '../../src/cache/cache-key.builder.js';
import { oversizedBytes } from '../../src/transport/codec/payload-limit.js';

const RUNS = { numRuns: 500 };
/** Any UTF-16 code unit, lone surrogates included: what an HTTP query string can decode to. */
const anyUnits = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) });
/** Well-formed strings of any code point, long ones included. */
const anyText = fc.string({ unit: 'binary', maxLength: 600 });
const hostile = fc.oneof(
  anyText,
  fc.constantFrom('*', '?', '[a-z]', '\\', '\r\n', '{}', '}{', '{x}', '\u0000', ' ', '../', 'ä', '😀', '\u202e'),
  fc.string({ unit: fc.constantFrom('*', '{', '}', '\r', '\n', ':', '\\', 'a', '😀'), maxLength: 400 }),
);
/** Arbitrary nested values made of what user input (JSON bodies, query strings) can turn into. */
const userValue = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    anyText,
    fc.double(),
    fc.integer(),
    fc.bigInt(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    // Invalid dates round-trip too (tagged-json.serializer.spec.ts), but Jest cannot compare two of them as equal.
    fc.date({ noInvalidDate: true }),
    fc.array(tie('node'), { maxLength: 5 }),
    fc.dictionary(anyText, tie('node'), { maxKeys: 5, noNullPrototype: true }),
  ),
})).node;

const utf8 = (text: string) => Buffer.from(text, 'utf8').toString('hex');

describe('Hostile input (property-based)', () => {
  describe('cache keys', () => {
    it('keeps keys up to 256 characters as given and turns longer ones into 257-258 (never a short key)', () => {
      fc.assert(
        fc.property(hostile, (key) => {
          const bounded = boundCacheKey(key);
          if (key.length <= MAX_CACHE_KEY_LENGTH) expect(bounded).toBe(key);
          else expect([257, 258]).toContain(bounded.length);
          expect(/\p{Surrogate}/u.test(bounded)).toBe(false);
        }),
        RUNS,
      );
    });

    it('never maps two distinct keys to the same Redis bytes (short and over-long keys alike)', () => {
      fc.assert(
        fc.property(hostile, hostile, fc.nat(300), (a, b, pad) => {
          const longA = a + 'x'.repeat(pad + MAX_CACHE_KEY_LENGTH);
          const longB = b + 'x'.repeat(pad + MAX_CACHE_KEY_LENGTH);
          for (const [x, y] of [
            [a, b],
            [longA, longB],
            [a, longB],
          ]) {
            if (x !== y) expect(utf8(boundCacheKey(x))).not.toBe(utf8(boundCacheKey(y)));
          }
        }),
        RUNS,
      );
    });

    it('rejects keys holding a lone surrogate (they would collapse to U+FFFD in Redis) and accepts the rest', () => {
      fc.assert(
        fc.property(anyUnits, (key) => {
          const wellFormed = !/\p{Surrogate}/u.test(key);
          if (key.length > 0 && wellFormed) expect(() => assertCacheKey(key)).not.toThrow();
          else expect(() => assertCacheKey(key)).toThrow(TypeError);
        }),
        RUNS,
      );
      expect(() => assertCacheKey('a\uD800b')).toThrow('must be well-formed Unicode');
    });

    it('builds a deterministic default key from any argument list, without crashing', () => {
      fc.assert(
        fc.property(fc.array(userValue, { maxLength: 4 }), (args) => {
          const key = defaultMethodKey('Venues', 'find', args);
          expect(key).toBe(defaultMethodKey('Venues', 'find', [...args]));
          expect(key.startsWith('Venues.find:')).toBe(true);
          expect(key.length).toBeLessThanOrEqual('Venues.find:'.length + 64);
        }),
        RUNS,
      );
    });

    it('tells apart argument lists whose stable text differs (no silent collisions in the key builder)', () => {
      fc.assert(
        fc.property(userValue, userValue, (a, b) => {
          if (stableStringify([a]) !== stableStringify([b])) {
            expect(defaultMethodKey('C', 'm', [a])).not.toBe(defaultMethodKey('C', 'm', [b]));
          }
        }),
        RUNS,
      );
    });
  });

  describe('cache serializer', () => {
    const serializer = new TaggedJsonCacheSerializer();

    it('round-trips arbitrary nested user values exactly', () => {
      fc.assert(
        fc.property(userValue, (value) => {
          expect(serializer.deserialize(Buffer.from(serializer.serialize(value)))).toStrictEqual(value);
        }),
        RUNS,
      );
    });

    it('never crashes the process on arbitrary bytes from Redis: a value or a thrown Error, no prototype pollution', () => {
      const bytes = fc.oneof(
        fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
        fc.jsonValue().map((v) => Buffer.from(`T${JSON.stringify(v)}`)),
        fc.constantFrom(
          Buffer.from('T{"__proto__":{"polluted":1}}'),
          Buffer.from('T{"\\u0000":"Map","v":[[{"__proto__":1},2]]}'),
          Buffer.from('T{"\\u0000":"nope"}'),
          Buffer.from('J' + '['.repeat(10_000)),
        ),
      );
      fc.assert(
        fc.property(bytes, (data) => {
          try {
            serializer.deserialize(data);
          } catch (error) {
            expect(error).toBeInstanceOf(Error);
          }
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        }),
        RUNS,
      );
    });
  });

  describe('transport codec', () => {
    const codec = new JsonTransportCodec();
    const jsonData = fc.jsonValue({ noUnicodeString: false });

    it('round-trips JSON data, Dates and BigInts exactly between our client and server', () => {
      const data = fc.oneof(
        jsonData,
        userValue.filter((v) => v !== undefined),
      );
      fc.assert(
        fc.property(anyText, data, (pattern, value) => {
          const json = JSON.parse(
            JSON.stringify({ v: value }, (_k, v: unknown) => (typeof v === 'bigint' ? 0 : v)),
          ) as { v: unknown };
          // Only what JSON + the annotations promise: skip values JSON itself changes (NaN, -0, undefined members).
          fc.pre(sameJson(value, json.v));
          const packet = { pattern, data: value, id: 'x' };
          expect(codec.decode(codec.encode(packet, true))).toStrictEqual(packet);
        }),
        RUNS,
      );
    });

    it('decodes any string to a value or a thrown Error, never polluting prototypes', () => {
      const raw = fc.oneof(
        anyUnits,
        jsonData.map((v) => JSON.stringify(v)),
        fc
          .tuple(fc.jsonValue(), fc.jsonValue())
          .map(([data, tags]) => JSON.stringify({ pattern: 'p', data, $t: tags })),
        fc.constantFrom(
          '{"pattern":"p","data":{},"$t":[[["__proto__","x"],"D"]]}',
          '{"pattern":"p","data":{},"$t":[[["constructor","prototype","x"],"B"]]}',
          '{"pattern":"p","data":{"a":"1"},"$t":[[["data","a"],"X"]]}',
          '{"pattern":"p","$t":"not-an-array"}',
          '['.repeat(100_000),
        ),
      );
      fc.assert(
        fc.property(raw, (text) => {
          try {
            codec.decode(text);
          } catch (error) {
            expect(error).toBeInstanceOf(Error);
          }
          expect(({} as Record<string, unknown>).x).toBeUndefined();
        }),
        RUNS,
      );
    });

    it('measures payloads in UTF-8 bytes, so multi-byte text cannot slip under the limit', () => {
      fc.assert(
        fc.property(anyText, fc.integer({ min: 1, max: 2_000 }), (text, max) => {
          const bytes = Buffer.byteLength(text, 'utf8');
          expect(oversizedBytes(text, max)).toBe(bytes > max ? bytes : 0);
        }),
        RUNS,
      );
    });
  });

  describe('Lua scripts', () => {
    const sources = readdirRecursive(join(import.meta.dirname, '../../src')).filter((f) => f.endsWith('.ts'));
    const scriptLiterals = sources.flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/`([^`]*)`/g)]
        .map((m) => m[1]!)
        .filter((text) => /redis\.p?call\(/.test(text))
        .map((text) => ({ file, text })),
    );

    it('are found in the library sources (the scan below is not vacuous)', () => {
      expect(scriptLiterals.length).toBeGreaterThanOrEqual(10);
    });

    it('splice nothing into their text but other constant script fragments: keys and values go through KEYS/ARGV', () => {
      for (const { file, text } of scriptLiterals) {
        for (const [, expression] of text.matchAll(/\$\{([^}]*)\}/g)) {
          expect({ file, expression }).toEqual({ file, expression: expect.stringMatching(/^[A-Z][A-Z0-9_]*$/) });
        }
        expect({ file, text }).toEqual({ file, text: expect.not.stringMatching(/loadstring|\bload\s*\(|dofile/) });
      }
    });

    it('are only ever sent as fixed sources: EVAL/EVALSHA/defineCommand get a script constant, not built text', () => {
      for (const file of sources) {
        const code = readFileSync(file, 'utf8');
        for (const [call] of code.matchAll(/\b(?:eval|evalsha)\([^)]*\)|defineCommand\([^)]*\)/g)) {
          expect({ file, call }).toEqual({ file, call: expect.not.stringMatching(/[`+]/) });
        }
      }
    });
  });
});

function readdirRecursive(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? readdirRecursive(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

/** Whether JSON (plus the codec's Date/BigInt annotations) carries `value` unchanged. */
function sameJson(value: unknown, viaJson: unknown): boolean {
  if (value instanceof Date) return !Number.isNaN(value.getTime());
  if (typeof value === 'bigint') return true;
  if (typeof value === 'number') return Object.is(value, viaJson);
  if (value === undefined) return false;
  if (value === null || typeof value !== 'object') return value === viaJson;
  if (Array.isArray(value)) {
    return Array.isArray(viaJson) && value.every((item, i) => sameJson(item, viaJson[i]));
  }
  const object = value as Record<string, unknown>;
  const other = viaJson as Record<string, unknown>;
  return Object.keys(object).every((k) => k !== '__proto__' && k !== '$t' && sameJson(object[k], other[k]));
}
