import { describe, expect, it } from '@jest/globals';
import { RELEASE } from '../lock/scripts/lock.scripts.js';
import { LuaScript } from './lua-script.js';
import { withShardedPublish } from './pubsub-commands.js';

describe('withShardedPublish', () => {
  it("turns every redis.call('PUBLISH' of a script into SPUBLISH and leaves the rest as it was", () => {
    const script = new LuaScript(
      'two-publishes',
      "redis.call('PUBLISH', ARGV[1], 'a')\nredis.call('SET', KEYS[1], 'PUBLISH')\nredis.call('PUBLISH', ARGV[1], 'b')",
    );
    const sharded = withShardedPublish(script);
    expect(sharded.source).toBe(
      "redis.call('SPUBLISH', ARGV[1], 'a')\nredis.call('SET', KEYS[1], 'PUBLISH')\nredis.call('SPUBLISH', ARGV[1], 'b')",
    );
    expect(sharded.name).toBe('two-publishes-sharded');
    expect(sharded.sha).not.toBe(script.sha);
  });

  it("keeps one sharded copy per script, and the lock release script's hand-over publish is among those it rewrites", () => {
    expect(withShardedPublish(RELEASE)).toBe(withShardedPublish(RELEASE));
    expect(RELEASE.source).toContain("redis.call('PUBLISH'");
    expect(withShardedPublish(RELEASE).source).not.toContain("redis.call('PUBLISH'");
  });
});
