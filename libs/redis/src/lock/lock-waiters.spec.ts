import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { LockWaiters, parseWakeMessage } from './lock-waiters.js';

const TOKEN = '0a1b2c3d4e5f.7b0f4c1e-2f53-4d5e-9a43-7a2b9a7f1c11';

function capture() {
  const lines: string[] = [];
  return { lines, logger: { warn: (message: unknown) => void lines.push(String(message)) } };
}

describe('parseWakeMessage()', () => {
  it('reads "<token>" (Redlock release) and "<token>:<fence>" (single-node hand-over)', () => {
    expect(parseWakeMessage(TOKEN)).toEqual({ token: TOKEN });
    expect(parseWakeMessage(`${TOKEN}:42`)).toEqual({ token: TOKEN, fence: 42 });
    // Tokens of older versions: a bare UUID.
    expect(parseWakeMessage('7b0f4c1e-2f53-4d5e-9a43-7a2b9a7f1c11:7')).toMatchObject({ fence: 7 });
  });

  it.each([
    ['an empty message', ''],
    ['a non-numeric fence', `${TOKEN}:abc`],
    ['a negative fence', `${TOKEN}:-1`],
    ['a zero fence', `${TOKEN}:0`],
    ['a fence beyond 2^53', `${TOKEN}:99999999999999999`],
    ['an exponent', `${TOKEN}:1e3`],
    ['two colons', `${TOKEN}:1:2`],
    ['JSON', '{"token":"x"}'],
    ['a token with spaces', 'a b'],
    ['5 MB', 'x'.repeat(5_000_000)],
    ['a non-string', Buffer.from(TOKEN)],
  ])('rejects %s', (_what, message) => {
    expect(parseWakeMessage(message)).toBeUndefined();
  });
});

describe('LockWaiters', () => {
  it('wakes the waiters of the token, with the fence of a hand-over', async () => {
    const waiters = new LockWaiters(capture().logger);
    const waiter = waiters.add(TOKEN);
    const woken = waiter.wait(60_000);
    waiters.onMessage('pfx:lock:wake:0a1b2c3d4e5f', `${TOKEN}:9`);
    await woken;
    expect(waiter.handoff).toBe(9);
    waiters.remove(TOKEN, waiter);
  });

  it('never throws on any message: junk is counted, logged once per interval, and wakes nobody', () => {
    const { lines, logger } = capture();
    const waiters = new LockWaiters(logger);
    const waiter = waiters.add(TOKEN);
    let rejectedBefore = 0;
    let highestFence: number | undefined;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.string({ unit: 'binary' }),
          fc.json(),
          fc.uint8Array().map((bytes) => Buffer.from(bytes).toString('latin1')),
          fc.string().map((rest) => `${TOKEN}:${rest}`),
        ),
        (message) => {
          expect(() => waiters.onMessage('pfx:lock:wake:0a1b2c3d4e5f', message)).not.toThrow();
          const wake = parseWakeMessage(message);
          if (wake?.token === TOKEN && wake.fence !== undefined) highestFence = Math.max(highestFence ?? 0, wake.fence);
          expect(waiters.malformed).toBe(rejectedBefore + (wake ? 0 : 1));
          rejectedBefore = waiters.malformed;
        },
      ),
      { numRuns: 500 },
    );
    expect(waiters.malformed).toBeGreaterThan(100);
    expect(lines.length).toBe(1);
    expect(lines[0]).toMatch(/^Dropped a malformed lock wake-up on pfx:lock:wake:0a1b2c3d4e5f \(/);
    // Only a well-formed "<token>:<fence>" counts as a hand-over; junk never sets one.
    expect(waiter.handoff).toBe(highestFence);
  });
});
