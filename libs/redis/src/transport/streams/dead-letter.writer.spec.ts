import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  DEAD_LETTER_ERROR_BYTES,
  DEAD_LETTER_EXCERPT_BYTES,
  deadLetterError,
  deadLetterPayloadFields,
  utf8Prefix,
} from './dead-letter.writer.js';

const MAX_PAYLOAD = 1_048_576;

describe('dead letter contents', () => {
  it('keeps a payload within maxPayloadBytes whole', () => {
    expect(deadLetterPayloadFields('{"a":1}', MAX_PAYLOAD)).toEqual(['payload', '{"a":1}']);
  });

  it('keeps a 5 MB payload as its first 1 KiB, its size and its sha256', () => {
    const payload = 'x'.repeat(5 * 1_048_576);
    const fields = deadLetterPayloadFields(payload, MAX_PAYLOAD);
    expect(fields).toEqual([
      'payload',
      'x'.repeat(DEAD_LETTER_EXCERPT_BYTES),
      'payloadBytes',
      String(5 * 1_048_576),
      'payloadSha256',
      createHash('sha256').update(payload).digest('hex'),
      'payloadTruncated',
      '1',
    ]);
  });

  it('counts UTF-8 bytes, not characters, and never cuts a character in two', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 3_000 }), fc.integer({ min: 0, max: 2_000 }), (text, max) => {
        const prefix = utf8Prefix(text, max);
        expect(text.startsWith(prefix)).toBe(true);
        expect(Buffer.byteLength(prefix, 'utf8')).toBeLessThanOrEqual(max);
        // The next character would not have fitted.
        if (prefix.length < text.length) {
          const next = String.fromCodePoint(text.codePointAt(prefix.length)!);
          expect(Buffer.byteLength(prefix + next, 'utf8')).toBeGreaterThan(max);
        }
      }),
    );
  });

  it('cuts an oversized error text, marking the cut', () => {
    expect(deadLetterError('boom')).toBe('boom');
    const long = deadLetterError('é'.repeat(DEAD_LETTER_ERROR_BYTES));
    expect(long.endsWith('…')).toBe(true);
    expect(Buffer.byteLength(long.slice(0, -1), 'utf8')).toBeLessThanOrEqual(DEAD_LETTER_ERROR_BYTES);
  });
});
