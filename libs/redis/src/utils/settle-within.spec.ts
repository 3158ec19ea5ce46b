import { describe, expect, it } from '@jest/globals';
import { settleWithin, waitWithin } from './settle-within.js';

const later = <T>(ms: number, value: T, fail = false) =>
  new Promise<T>((resolve, reject) => setTimeout(() => (fail ? reject(new Error('failed')) : resolve(value)), ms));

describe('settleWithin() / waitWithin()', () => {
  it('settleWithin settles like the work when it is in time, else rejects with the timeout error', async () => {
    await expect(settleWithin(later(5, 'ok'), 1_000, () => new Error('late'))).resolves.toBe('ok');
    await expect(settleWithin(later(5, 'ok', true), 1_000, () => new Error('late'))).rejects.toThrow('failed');
    await expect(settleWithin(later(1_000, 'ok'), 10, () => new Error('late'))).rejects.toThrow('late');
  });

  it('waitWithin tells whether the work settled in time, and never rejects', async () => {
    await expect(waitWithin(later(5, 'ok'), 1_000)).resolves.toBe(true);
    await expect(waitWithin(later(5, 'ok', true), 1_000)).resolves.toBe(true);
    await expect(waitWithin(later(1_000, 'ok'), 10)).resolves.toBe(false);
  });
});
