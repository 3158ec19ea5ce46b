import { describe, expect, it } from '@jest/globals';
import type { RedisClient } from '../../connection/redis-connection.factory.js';
import { hashSlot } from './redis-hash-slot.js';
import { deferred, type PreparedRequest, TickBatcher, type TickBatchSender } from './tick.batcher.js';

/** A request prepared to leave alone, recording how it was settled. */
interface Prepared extends PreparedRequest<string> {
  key: string;
}

function prepare(key: string): Prepared {
  return { key, ...deferred<string>() };
}

/** A sender that answers `value:<key>` and records what it was asked to send. */
function recordingSender(options: { alone?: boolean; fail?: Error } = {}) {
  const sent: Array<{ kind: 'one' | 'many' | 'alone'; keys: string[] }> = [];
  const sender: TickBatchSender<string, string> = {
    keyOf: (key) => key,
    one: (key) => {
      sent.push({ kind: 'one', keys: [key] });
      return options.fail ? Promise.reject(options.fail) : Promise.resolve(`value:${key}`);
    },
    many: (keys) => {
      sent.push({ kind: 'many', keys: [...keys] });
      return options.fail ? Promise.reject(options.fail) : Promise.resolve(keys.map((key) => `value:${key}`));
    },
    alone: options.alone
      ? {
          prepare,
          send: (prepared) => {
            const { key } = prepared as Prepared;
            sent.push({ kind: 'alone', keys: [key] });
            if (options.fail) prepared.reject(options.fail);
            else prepared.resolve(`value:${key}`);
          },
        }
      : undefined,
  };
  return { sender, sent };
}

const singleNode = {} as RedisClient;
const cluster = { nodes: () => [] } as unknown as RedisClient;

/** Runs after the batcher's flush of this turn (queued later, on the same queue). */
const afterThisTurn = () => new Promise<void>((resolve) => process.nextTick(resolve));

describe('TickBatcher', () => {
  it('sends a lone request by itself within its turn, as the prepared command its caller awaits', async () => {
    const { sender, sent } = recordingSender({ alone: true });
    const batcher = new TickBatcher(singleNode, sender, 256);
    const result = batcher.submit('a');
    expect(sent).toEqual([]);
    await afterThisTurn();
    expect(sent).toEqual([{ kind: 'alone', keys: ['a'] }]);
    expect(await result).toBe('value:a');
  });

  it('sends a lone request with `one` when the sender prepares nothing', async () => {
    const { sender, sent } = recordingSender();
    const batcher = new TickBatcher(singleNode, sender, 256);
    const result = batcher.submit('a');
    await afterThisTurn();
    expect(sent).toEqual([{ kind: 'one', keys: ['a'] }]);
    expect(await result).toBe('value:a');
  });

  it('sends the requests of one turn as one command (the first one never leaves alone), each caller its result', async () => {
    const { sender, sent } = recordingSender({ alone: true });
    const batcher = new TickBatcher(singleNode, sender, 256);
    const results = Promise.all(['a', 'b', 'c'].map((key) => batcher.submit(key)));
    await afterThisTurn();
    expect(sent).toEqual([{ kind: 'many', keys: ['a', 'b', 'c'] }]);
    expect(await results).toEqual(['value:a', 'value:b', 'value:c']);
  });

  it('starts afresh in the next turn', async () => {
    const { sender, sent } = recordingSender({ alone: true });
    const batcher = new TickBatcher(singleNode, sender, 256);
    const first = Promise.all([batcher.submit('a'), batcher.submit('b')]);
    await afterThisTurn();
    const second = batcher.submit('c');
    await afterThisTurn();
    expect(sent).toEqual([
      { kind: 'many', keys: ['a', 'b'] },
      { kind: 'alone', keys: ['c'] },
    ]);
    expect([...(await first), await second]).toEqual(['value:a', 'value:b', 'value:c']);
  });

  it('sends a full command at once, then queues the rest of the turn anew', async () => {
    const { sender, sent } = recordingSender({ alone: true });
    const batcher = new TickBatcher(singleNode, sender, 2);
    const results = Promise.all(['a', 'b', 'c'].map((key) => batcher.submit(key)));
    expect(sent).toEqual([{ kind: 'many', keys: ['a', 'b'] }]);
    await afterThisTurn();
    expect(sent).toEqual([
      { kind: 'many', keys: ['a', 'b'] },
      { kind: 'alone', keys: ['c'] },
    ]);
    expect(await results).toEqual(['value:a', 'value:b', 'value:c']);
  });

  it("rejects every caller of a failed command, the first request's prepared command included", async () => {
    const failure = new Error('down');
    const { sender } = recordingSender({ alone: true, fail: failure });
    const batcher = new TickBatcher(singleNode, sender, 256);
    const results = ['a', 'b'].map((key) => batcher.submit(key));
    const lone = (async () => {
      await afterThisTurn();
      return batcher.submit('c');
    })();
    await expect(results[0]).rejects.toBe(failure);
    await expect(results[1]).rejects.toBe(failure);
    await expect(lone).rejects.toBe(failure);
  });

  it('on a Cluster, sends one command per hash slot; a request alone in its slot leaves alone', async () => {
    const { sender, sent } = recordingSender({ alone: true });
    const batcher = new TickBatcher(cluster, sender, 256);
    // `{x}` keys share a slot; `solo` and `other` are alone in theirs.
    expect(hashSlot('solo')).not.toBe(hashSlot('x'));
    expect(hashSlot('other')).not.toBe(hashSlot('x'));
    expect(hashSlot('other')).not.toBe(hashSlot('solo'));
    const keys = ['solo', '{x}:1', 'other', '{x}:2'];
    const results = Promise.all(keys.map((key) => batcher.submit(key)));
    await afterThisTurn();
    expect(sent).toEqual([
      { kind: 'alone', keys: ['solo'] },
      { kind: 'many', keys: ['{x}:1', '{x}:2'] },
      { kind: 'one', keys: ['other'] },
    ]);
    expect(await results).toEqual(keys.map((key) => `value:${key}`));
  });
});
