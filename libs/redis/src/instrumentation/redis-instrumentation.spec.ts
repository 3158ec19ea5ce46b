import { describe, expect, it } from '@jest/globals';
import { RedisInstrumentation } from './redis-instrumentation.js';

describe('RedisInstrumentation', () => {
  it('replays transport.listening announcements to listeners that subscribe later, once per distinct payload', () => {
    const hub = new RedisInstrumentation();
    hub.emit('transport.listening', { mode: 'streams', patterns: ['a'] });
    hub.emit('transport.listening', { mode: 'streams', patterns: ['a'] });
    hub.emit('transport.listening', { mode: 'pubsub', patterns: ['b'] });
    const seen: unknown[] = [];
    hub.on('transport.listening', (payload) => seen.push(payload));
    expect(seen).toEqual([
      { mode: 'streams', patterns: ['a'] },
      { mode: 'pubsub', patterns: ['b'] },
    ]);
    hub.emit('transport.listening', { mode: 'streams', patterns: ['c'] });
    expect(seen).toHaveLength(3);
  });

  it('does not replay occurrences (lock, cache, transport.handled) to later listeners', () => {
    const hub = new RedisInstrumentation();
    hub.emit('lock.acquired', { mode: 'single', waitMs: 1 });
    hub.emit('cache.load', { cache: 'c', durationMs: 1, failed: false });
    const seen: unknown[] = [];
    hub.on('lock.acquired', (payload) => seen.push(payload));
    hub.on('cache.load', (payload) => seen.push(payload));
    expect(seen).toEqual([]);
  });

  it('observes an event while it has listeners, and no longer once they all unsubscribed', () => {
    const hub = new RedisInstrumentation();
    expect(hub.observes('cache.lookup')).toBe(false);
    const offFirst = hub.on('cache.lookup', () => undefined);
    const offSecond = hub.on('cache.lookup', () => undefined);
    expect(hub.observes('cache.lookup')).toBe(true);
    expect(hub.observes('cache.load')).toBe(false);
    offFirst();
    expect(hub.observes('cache.lookup')).toBe(true);
    offSecond();
    offSecond();
    expect(hub.observes('cache.lookup')).toBe(false);
  });

  it('keeps replaying to the other listeners when one throws', () => {
    const hub = new RedisInstrumentation();
    hub.emit('transport.listening', { mode: 'streams', patterns: ['a'] });
    expect(() =>
      hub.on('transport.listening', () => {
        throw new Error('listener bug');
      }),
    ).not.toThrow();
    const seen: unknown[] = [];
    hub.on('transport.listening', (payload) => seen.push(payload));
    expect(seen).toHaveLength(1);
  });
});
