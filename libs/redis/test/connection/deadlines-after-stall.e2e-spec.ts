import { describe, expect, it } from '@jest/globals';
import { Command } from 'ioredis';
import { CommandDeadlines } from '../../src/connection/command-deadlines.js';
import { settleWithin } from '../../src/utils/settle-within.js';
import { useRedisClient } from '@test/harness';

const redis = useRedisClient();
/** Its own connection: a BLPOP holds the connection it is sent on. */
const blocking = useRedisClient();

/** Blocks the event loop, as a long synchronous task, a GC pause or a starved CPU does. */
function stallEventLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy: no timer, no I/O callback runs meanwhile
  }
}

describe('CommandDeadlines › a stalled event loop', () => {
  it('lets a command answered during the stall settle instead of failing it at the late timer', async () => {
    await redis.ping(); // connected: the stalled command below goes straight to the socket
    const deadlines = new CommandDeadlines({ tickMs: 20, timeoutError: (ms) => new Error(`timed out after ${ms} ms`) });
    const command = new Command('echo', ['answered'], { replyEncoding: 'utf8' });
    deadlines.track(command, 50);
    void redis.sendCommand(command);
    // Redis answers within a millisecond or two; the reply waits in the socket while the timer is overdue.
    stallEventLoop(400);
    await expect(command.promise).resolves.toBe('answered');
    deadlines.clear();
  });

  it('still fails a command that has no answer after the stall, at the next turn', async () => {
    const deadlines = new CommandDeadlines({ tickMs: 20, timeoutError: (ms) => new Error(`timed out after ${ms} ms`) });
    // BLPOP on an empty list: Redis holds the answer for 5 s, so nothing is in the socket when the timer runs.
    const blocked = new Command('blpop', [`command-deadlines-stall:${process.pid}:empty`, '5'], {
      replyEncoding: 'utf8',
    });
    const started = Date.now();
    deadlines.track(blocked, 50);
    void blocking.sendCommand(blocked);
    stallEventLoop(200);
    await expect(blocked.promise).rejects.toThrow('timed out after 50 ms');
    expect(Date.now() - started).toBeLessThan(1_000);
    deadlines.clear();
  });
});

describe('settleWithin › a stalled event loop', () => {
  it('lets an answer that arrived during the stall win over the overdue timer', async () => {
    await redis.ping();
    const answer = settleWithin(redis.echo('answered'), 50, () => new Error('timed out'));
    stallEventLoop(400);
    await expect(answer).resolves.toBe('answered');
  });
});
