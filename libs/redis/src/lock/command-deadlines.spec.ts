import { describe, expect, it } from '@jest/globals';
import { CommandDeadlines, type PendingCommand } from './command-deadlines.js';
import { LockTimeoutError } from './with-timeout.js';

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

describe('CommandDeadlines', () => {
  it('fails a command still pending at its deadline with LockTimeoutError, within one tick', async () => {
    const deadlines = new CommandDeadlines();
    const slow = pending();
    const started = Date.now();
    deadlines.track(slow, 60);
    await sleep(40);
    expect(slow.error).toBeUndefined();
    while (!slow.error && Date.now() - started < 500) await sleep(5);
    expect(slow.error).toBeInstanceOf(LockTimeoutError);
    expect(Date.now() - started).toBeLessThan(60 + 20 + 50);
    deadlines.close();
  });

  it('leaves commands that settled in time alone', async () => {
    const deadlines = new CommandDeadlines();
    const fast = pending();
    deadlines.track(fast, 30);
    fast.isResolved = true;
    await sleep(80);
    expect(fast.error).toBeUndefined();
    deadlines.close();
  });
});
