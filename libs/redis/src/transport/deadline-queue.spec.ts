import { describe, expect, it } from '@jest/globals';
import { DeadlineQueue, type Expirable } from './deadline-queue.js';

function operation(expired: string[], name: string): Expirable {
  return { deadline: 0, expire: () => expired.push(name) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('DeadlineQueue', () => {
  it('expires each operation once, after the timeout, in the order they were added', async () => {
    const queue = new DeadlineQueue(30);
    const expired: string[] = [];
    queue.add(operation(expired, 'a'));
    await sleep(10);
    queue.add(operation(expired, 'b'));
    await sleep(25);
    expect(expired).toEqual(['a']);
    await sleep(20);
    expect(expired).toEqual(['a', 'b']);
    expect(queue.size).toBe(0);
  });

  it('never expires a deleted operation, and restart() gives a waiting one a full timeout again', async () => {
    const queue = new DeadlineQueue(30);
    const expired: string[] = [];
    const deleted = operation(expired, 'deleted');
    const restarted = operation(expired, 'restarted');
    queue.add(deleted);
    queue.add(restarted);
    queue.delete(deleted);
    await sleep(20);
    queue.restart(restarted);
    await sleep(20);
    expect(expired).toEqual([]);
    await sleep(25);
    expect(expired).toEqual(['restarted']);
  });

  it('keeps working when an expired operation starts a new one from its callback', async () => {
    const queue = new DeadlineQueue(15);
    const expired: string[] = [];
    queue.add({ deadline: 0, expire: () => (expired.push('first'), queue.add(operation(expired, 'second'))) });
    await sleep(60);
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
