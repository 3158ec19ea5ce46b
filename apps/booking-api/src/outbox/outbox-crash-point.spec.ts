import { describe, expect, it } from '@jest/globals';
import { OUTBOX_TEST_CRASH_RATE, outboxCrashRate } from './outbox-crash-point.js';

describe('outboxCrashRate', () => {
  it('is 0 (no crash) when the variable is unset or empty', () => {
    expect(outboxCrashRate({})).toBe(0);
    expect(outboxCrashRate({ [OUTBOX_TEST_CRASH_RATE]: ' ' })).toBe(0);
  });

  it('reads a probability from 0 to 1', () => {
    expect(outboxCrashRate({ [OUTBOX_TEST_CRASH_RATE]: '0.012' })).toBe(0.012);
    expect(outboxCrashRate({ [OUTBOX_TEST_CRASH_RATE]: '1' })).toBe(1);
  });

  it.each(['-0.1', '1.5', 'often', 'NaN', 'Infinity'])('refuses %s, naming the variable', (value) => {
    expect(() => outboxCrashRate({ [OUTBOX_TEST_CRASH_RATE]: value })).toThrow(
      `OUTBOX_TEST_CRASH_RATE must be a number from 0 to 1 (a probability), got "${value}".`,
    );
  });
});
