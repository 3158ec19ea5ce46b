import { describe, expect, it } from '@jest/globals';
import { DeadlineQueue, type Expirable } from './command-deadlines.js';

function operation(expired: string[], name: string): Expirable {
  return { deadline: 0, expire: () => expired.push(name) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('DeadlineQueue', () => {
  it('expires each operation once, after the timeout, in the order they were added', async () => {
    // Times are checked as lower bounds and the end is polled: on a loaded machine every timer may fire late, and a
    // fixed window (expired after 35 ms, not after 25 ms) failed a CI run once.
    const queue = new DeadlineQueue(30);
    const expired: string[] = [];
    const at = new Map<string, number>();
    const timed = (name: string): Expirable => ({
      deadline: 0,
      expire: () => {
        expired.push(name);
        at.set(name, performance.now());
      },
    });
    const addedA = performance.now();
    queue.add(timed('a'));
    await sleep(10);
    const addedB = performance.now();
    queue.add(timed('b'));
    for (let waited = 0; expired.length < 2 && waited < 2_000; waited += 10) await sleep(10);
    await sleep(50);
    expect(expired).toEqual(['a', 'b']);
    expect(at.get('a')! - addedA).toBeGreaterThanOrEqual(29);
    expect(at.get('b')! - addedB).toBeGreaterThanOrEqual(29);
    expect(queue.size).toBe(0);
  });

  it('never expires a deleted operation, and restart() gives a waiting one a full timeout again', async () => {
    const queue = new DeadlineQueue(30);
    const expired: string[] = [];
    let restartedExpiredAt = 0;
    const deleted = operation(expired, 'deleted');
    const restarted: Expirable = {
      deadline: 0,
      expire: () => {
        expired.push('restarted');
        restartedExpiredAt = performance.now();
      },
    };
    queue.add(deleted);
    queue.add(restarted);
    queue.delete(deleted);
    await sleep(20);
    const restartedAt = performance.now();
    queue.restart(restarted);
    for (let waited = 0; expired.length < 1 && waited < 2_000; waited += 10) await sleep(10);
    await sleep(50);
    expect(expired).toEqual(['restarted']);
    // A full timeout from the restart, not from the add (lower bound only: timers may fire late, never early).
    expect(restartedExpiredAt - restartedAt).toBeGreaterThanOrEqual(29);
  });

  it('keeps working when an expired operation starts a new one from its callback', async () => {
    const queue = new DeadlineQueue(15);
    const expired: string[] = [];
    queue.add({ deadline: 0, expire: () => (expired.push('first'), queue.add(operation(expired, 'second'))) });
    // Polled rather than one fixed sleep: on a loaded machine each timer may fire late.
    for (let waited = 0; expired.length < 2 && waited < 1_000; waited += 10) await sleep(10);
    expect(expired).toEqual(['first', 'second']);
  });

  it('takeAll() hands back the waiting operations without expiring them', async () => {
    const queue = new DeadlineQueue(15);
    const expired: string[] = [];
    const waiting = operation(expired, 'w');
    queue.add(waiting);
    expect(queue.takeAll()).toEqual([waiting]);
    await sleep(30);
    expect(expired).toEqual([]);
  });
});
