import { createHash } from 'node:crypto';
import type { RedisClient } from '../../connection/redis-connection.factory.js';

type ScriptArgument = string | number;
type EvalClient = Pick<RedisClient, 'evalsha' | 'eval'>;

/**
 * A Lua script run with EVALSHA, falling back to EVAL when the server does not know it yet (first use, restart,
 * SCRIPT FLUSH, failover). Scripts only touch the keys passed in KEYS, so they are Cluster-safe when those keys share
 * a hash tag.
 */
export class LuaScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: EvalClient, keys: string[], args: ScriptArgument[]): Promise<unknown> {
    const call = client as unknown as {
      evalsha(sha: string, numKeys: number, ...rest: ScriptArgument[]): Promise<unknown>;
      eval(source: string, numKeys: number, ...rest: ScriptArgument[]): Promise<unknown>;
    };
    try {
      return await call.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return call.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
