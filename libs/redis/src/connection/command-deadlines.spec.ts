import { describe, expect, it } from '@jest/globals';
import { LockTimeoutError } from '../errors/lock-timeout.error.js';
import { lockCommandDeadlines } from '../lock/with-timeout.js';
import { CommandDeadlines, type PendingCommand } from './command-deadlines.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function pending(): PendingCommand & { error?: Error } {
  const command: PendingCommand & { error?: Error } = {
    isResolved: false,
    reject(error: Error) {
      command.error = error;
    },
  };
  return command;
}

describe('CommandDeadlines (as the locks configure it)', () => {
  it('fails a command still pending at its deadline with LockTimeoutError, within one tick', async () => {
    const deadlines = lockCommandDeadlines();
    const slow = pending();
    const started = Date.now();
    deadlines.track(slow, 60);
    await sleep(40);
    expect(slow.error).toBeUndefined();
    while (!slow.error && Date.now() - started < 500) await sleep(5);
    expect(slow.error).toBeInstanceOf(LockTimeoutError);
    expect(Date.now() - started).toBeLessThan(60 + 20 + 50);
    deadlines.clear();
  });

  it('leaves commands that settled in time alone', async () => {
    const deadlines = lockCommandDeadlines();
    const fast = pending();
    deadlines.track(fast, 30);
    fast.isResolved = true;
    await sleep(80);
    expect(fast.error).toBeUndefined();
    deadlines.clear();
  });
});

describe('CommandDeadlines', () => {
  it('fails every command still pending on failAll, with the configured error, and forgets settled ones', () => {
    const deadlines = new CommandDeadlines({ tickMs: 1_000, timeoutError: (ms) => new Error(`late after ${ms} ms`) });
    const settled = pending();
    const waiting = pending();
    deadlines.track(settled, 250);
    deadlines.track(waiting, 500);
    settled.isResolved = true;
    deadlines.failAll();
    expect(settled.error).toBeUndefined();
    expect(waiting.error?.message).toBe('late after 500 ms');
  });

  it('fails each command at its own deadline when timeouts differ', async () => {
    const deadlines = new CommandDeadlines({ tickMs: 10, timeoutError: (ms) => new Error(String(ms)) });
    const long = pending();
    const short = pending();
    deadlines.track(long, 200);
    deadlines.track(short, 30);
    await sleep(100);
    expect(short.error?.message).toBe('30');
    expect(long.error).toBeUndefined();
    while (!long.error) await sleep(10);
    expect(long.error.message).toBe('200');
    deadlines.clear();
  });
});
