import { describe, expect, it } from '@jest/globals';
import { JsonTransportCodec } from './redis-transport.codec.js';

describe('JsonTransportCodec', () => {
  const codec = new JsonTransportCodec();
  const packet = {
    pattern: 'booking.created',
    data: { at: new Date('2026-11-23T08:00:00.000Z'), n: 2n ** 64n, list: [new Date(0), 1n, 'x'], nested: { d: null } },
  };

  it('round-trips Date and BigInt losslessly between our sides', () => {
    expect(codec.decode(codec.encode(packet, true))).toEqual(packet);
  });

  it('writes plain JSON for a JSON peer: ISO strings for dates, decimal strings for BigInt, no annotations', () => {
    const wire = JSON.parse(codec.encode(packet, false)) as Record<string, unknown>;
    expect(wire).toEqual({
      pattern: 'booking.created',
      data: {
        at: '2026-11-23T08:00:00.000Z',
        n: '18446744073709551616',
        list: ['1970-01-01T00:00:00.000Z', '1', 'x'],
        nested: { d: null },
      },
    });
  });

  it('adds no annotation key when nothing needs one', () => {
    expect(codec.encode({ pattern: 'p', data: { a: 1 } }, true)).toBe('{"pattern":"p","data":{"a":1}}');
  });

  it('reads foreign JSON values as they are and rejects invalid JSON or annotations', () => {
    expect(codec.decode('"hello"')).toBe('hello');
    expect(() => codec.decode('{nope')).toThrow();
    expect(() => codec.decode('{"$t":[[["__proto__","x"],"D"]]}')).toThrow(/path/);
    expect(() => codec.decode('{"a":"x","$t":[[["a"],"B"]]}')).toThrow(/annotation/);
  });
});
