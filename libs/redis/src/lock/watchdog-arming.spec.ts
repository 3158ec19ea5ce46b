import { describe, expect, it } from '@jest/globals';
import { type DeferredWatchdog, WatchdogArming } from './watchdog-arming.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function lock(): DeferredWatchdog & { armed: number } {
  const watchdog = {
    armed: 0,
    armDeferred() {
      watchdog.armed += 1;
    },
  };
  return watchdog;
}

describe('WatchdogArming', () => {
  it('refuses to defer a watchdog due within two ticks (the caller arms it at once)', () => {
    const arming = new WatchdogArming();
    expect(arming.defer(lock(), 20)).toBe(false);
    arming.close();
  });

  it('arms a deferred watchdog at the next tick, once', async () => {
    const arming = new WatchdogArming();
    const held = lock();
    expect(arming.defer(held, 3_000)).toBe(true);
    expect(held.armed).toBe(0);
    await sleep(130);
    expect(held.armed).toBe(1);
    arming.close();
  });

  it('never arms a lock cancelled before the tick (released early)', async () => {
    const arming = new WatchdogArming();
    const released = lock();
    arming.defer(released, 3_000);
    arming.cancel(released);
    await sleep(130);
    expect(released.armed).toBe(0);
    arming.close();
  });
});
