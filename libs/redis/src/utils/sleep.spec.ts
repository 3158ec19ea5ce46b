import { describe, expect, it } from '@jest/globals';
import { sleep, startSleep } from './sleep.js';

describe('startSleep() / sleep()', () => {
  it('resolves false when its time runs out, and runs onEnd once before done resolves', async () => {
    let ends = 0;
    const started = Date.now();
    const s = startSleep(20, { onEnd: () => ends++ });
    expect(ends).toBe(0);
    await expect(s.done).resolves.toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(19);
    expect(ends).toBe(1);
    s.wake();
    expect(ends).toBe(1);
  });

  it('resolves true at once when woken, running onEnd synchronously in wake()', async () => {
    let ends = 0;
    const s = startSleep(60_000, { onEnd: () => ends++ });
    s.wake();
    expect(ends).toBe(1);
    s.wake();
    expect(ends).toBe(1);
    await expect(s.done).resolves.toBe(true);
  });

  it('ends when the signal aborts, and removes its abort listener whichever way it ends', async () => {
    const controller = new AbortController();
    let ends = 0;
    const s = startSleep(60_000, { signal: controller.signal, onEnd: () => ends++ });
    controller.abort();
    expect(ends).toBe(1);
    await expect(s.done).resolves.toBe(true);

    const other = new AbortController();
    const removed: unknown[] = [];
    const remove = other.signal.removeEventListener.bind(other.signal);
    other.signal.removeEventListener = (type: string, listener: never) => {
      removed.push(type);
      remove(type, listener);
    };
    await expect(startSleep(5, { signal: other.signal }).done).resolves.toBe(false);
    expect(removed).toEqual(['abort']);
  });

  it('ends on the next microtask for a signal aborted already, after startSleep returned', async () => {
    const controller = new AbortController();
    controller.abort();
    let ends = 0;
    const s = startSleep(60_000, { signal: controller.signal, onEnd: () => ends++ });
    expect(ends).toBe(0);
    await expect(s.done).resolves.toBe(true);
    expect(ends).toBe(1);
  });

  it('sleep() resolves after the time, or early on abort, and never rejects', async () => {
    const started = Date.now();
    await expect(sleep(20)).resolves.toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(19);
    const controller = new AbortController();
    const sleeping = sleep(60_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(sleeping).resolves.toBeUndefined();
  });
});
