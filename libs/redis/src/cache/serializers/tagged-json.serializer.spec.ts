import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { TaggedJsonCacheSerializer } from './tagged-json.serializer.js';
import { V8CacheSerializer } from './v8.serializer.js';

const serializer = new TaggedJsonCacheSerializer();
const roundTrip = (value: unknown) => serializer.deserialize(serializer.serialize(value));

describe('TaggedJsonCacheSerializer', () => {
  it('round-trips Date, BigInt, Map, Set, Buffer, typed arrays, RegExp, NaN, -0, null, undefined members', () => {
    const value = {
      date: new Date('2026-11-23T07:00:00.000Z'),
      big: -(2n ** 70n),
      map: new Map<unknown, unknown>([[{ k: 1 }, new Set([1n])]]),
      set: new Set([null, 'a']),
      buffer: Buffer.from('héllo'),
      ints: new Int32Array([1, -2, 3]),
      regex: /x.y/g,
      numbers: [Number.NaN, -0, Number.NEGATIVE_INFINITY, 1e308],
      nothing: null,
      missing: undefined,
      list: [undefined, null],
    };
    expect(roundTrip(value)).toStrictEqual(value);
    const invalid = roundTrip({ at: new Date(Number.NaN) }) as { at: Date };
    expect(invalid.at).toBeInstanceOf(Date);
    expect(Number.isNaN(invalid.at.getTime())).toBe(true);
  });

  it('stores plain data as JSON behind a marker byte (readable, decoded by a bare JSON.parse)', () => {
    const bytes = serializer.serialize({ a: [1, 'b', null] });
    expect(bytes.toString()).toBe('J{"a":[1,"b",null]}');
  });

  it('never mistakes a user object for a tagged value, and keeps __proto__ keys as data', () => {
    const tricky = JSON.parse('{"\\u0000":"D","v":0,"__proto__":{"polluted":true}}') as object;
    const back = roundTrip({ tricky, when: new Date(0) }) as { tricky: Record<string, unknown> };
    expect(Object.getPrototypeOf(back.tricky)).toBe(Object.prototype);
    expect(Object.keys(back.tricky)).toEqual(['\u0000', 'v', '__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses functions and cyclic values', () => {
    expect(() => serializer.serialize({ f: () => 1, d: new Date() })).toThrow(TypeError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => serializer.serialize(cyclic)).toThrow(/circular/);
  });

  it('round-trips arbitrary JSON-like values (property test)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ noUnicodeString: false }), (value) => {
        expect(roundTrip(value)).toStrictEqual(value);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips arbitrary values mixing dates, bigints, maps and sets (property test)', () => {
    const leaf = fc.oneof(fc.date({ noInvalidDate: true }), fc.bigInt(), fc.string(), fc.double(), fc.constant(null));
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(fc.string(), tie('node'), { maxKeys: 4, noNullPrototype: true }),
        fc.array(tie('node'), { maxLength: 4 }).map((items) => new Set(items)),
        fc.array(fc.tuple(fc.string(), tie('node')), { maxLength: 4 }).map((entries) => new Map(entries)),
      ),
    })).node;
    fc.assert(
      fc.property(tree, (value) => {
        expect(roundTrip(value)).toStrictEqual(value);
      }),
      { numRuns: 300 },
    );
  });
});

describe('V8CacheSerializer', () => {
  it('round-trips structured-clone values, cycles included', () => {
    const v8 = new V8CacheSerializer();
    const cyclic: Record<string, unknown> = { at: 1 };
    cyclic.self = cyclic;
    const back = v8.deserialize(v8.serialize(cyclic)) as Record<string, unknown>;
    expect(back.self).toBe(back);
  });
});
