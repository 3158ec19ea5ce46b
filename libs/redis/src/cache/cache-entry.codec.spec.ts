import { describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import fc from 'fast-check';
import { RedisInstrumentation } from '../instrumentation/redis-instrumentation.js';
import { RejectedInputReporter } from '../utils/rejected-input.reporter.js';
import { CORRUPT_ENTRY, decodeEntry, decodeEntryValue, encodeEntry } from './cache-entry.codec.js';
import { TaggedJsonCacheSerializer } from './serializers/tagged-json.serializer.js';
import { V8CacheSerializer } from './serializers/v8.serializer.js';

const serializers = [new TaggedJsonCacheSerializer(), new V8CacheSerializer()];

/** A reporter counting what it is told, with its log lines silenced. */
function countingReporter(): { reporter: RejectedInputReporter; count: () => number } {
  const instrumentation = new RedisInstrumentation();
  let count = 0;
  instrumentation.on('input.rejected', ({ source }) => {
    expect(source).toBe('cache.entry');
    count++;
  });
  const logger = new Logger('test');
  logger.warn = () => undefined;
  return { reporter: new RejectedInputReporter(logger, instrumentation), count: () => count };
}

/** An entry header (format 1, fresh) followed by `body`. */
function withHeader(body: Uint8Array): Buffer {
  const header = Buffer.alloc(17);
  header.writeUInt8(1, 0);
  header.writeDoubleBE(Date.now(), 1);
  header.writeDoubleBE(Date.now() + 60_000, 9);
  return Buffer.concat([header, body]);
}

describe('cache entry codec on bytes anyone could have written', () => {
  it.each(serializers)('never throws on arbitrary bytes behind a valid header ($name serializer)', (serializer) => {
    const { reporter, count } = countingReporter();
    let corrupt = 0;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (body) => {
        const data = withHeader(body);
        const decodable = decodeEntryValue(serializer, data, reporter) !== CORRUPT_ENTRY;
        const entry = decodeEntry(serializer, data, reporter);
        expect(entry !== undefined).toBe(decodable);
        if (!decodable) corrupt += 2;
      }),
      { numRuns: 300 },
    );
    expect(count()).toBe(corrupt);
  });

  it('reads a tagged value that fails to revive (bad BigInt, bad RegExp, deep nesting) as corrupt', () => {
    const serializer = new TaggedJsonCacheSerializer();
    const { reporter, count } = countingReporter();
    const bodies = [
      'T{"x":{"\\u0000":"n","v":"1.5"}}',
      'T{"x":{"\\u0000":"R","v":["(","g"]}}',
      'T{"x":{"\\u0000":"M","v":5}}',
      `T${'['.repeat(100_000)}0${']'.repeat(100_000)}`,
      'J{"unterminated":',
    ];
    for (const body of bodies) {
      expect(decodeEntryValue(serializer, withHeader(Buffer.from(body)), reporter)).toBe(CORRUPT_ENTRY);
    }
    expect(count()).toBe(bodies.length);
  });

  it('decodes an entry once per read, each buffer to its own value', () => {
    let decodes = 0;
    const inner = new TaggedJsonCacheSerializer();
    const serializer = {
      name: 'counting',
      serialize: (value: unknown) => inner.serialize(value),
      deserialize: (data: Buffer) => {
        decodes++;
        return inner.deserialize(data);
      },
    };
    const data = encodeEntry(serializer, { a: [1, 2] }, Date.now(), Date.now() + 1_000);
    const other = encodeEntry(serializer, { b: true }, Date.now(), Date.now() + 1_000);
    expect(decodeEntryValue(serializer, data)).toEqual({ a: [1, 2] });
    expect(decodes).toBe(1);
    expect(decodeEntryValue(serializer, data)).toEqual({ a: [1, 2] });
    expect(decodeEntryValue(serializer, other)).toEqual({ b: true });
    expect(decodes).toBe(3);
  });
});
