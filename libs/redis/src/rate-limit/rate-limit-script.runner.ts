import { CommandDeadlines } from '../connection/command-deadlines.js';
import type { RedisClient } from '../connection/redis-connection.factory.js';
import { RedisWriteCoalescer } from '../connection/redis-write-coalescer.js';
import type { LuaScript } from '../connection/lua-script.js';
import { RateLimitUnavailableError } from '../errors/rate-limit-unavailable.error.js';
import { RATE_LIMIT_NOT_CONNECTED, RATE_LIMIT_TIMEOUT } from './rate-limit.messages.js';

/**
 * Runs the rate-limit scripts on one connection: one EVALSHA per decision, failed at its deadline by a shared
 * `CommandDeadlines` (no timer per call), and failed at once when the connection is not ready, so a decision is
 * never queued in ioredis' offline queue to be counted minutes later. Decisions issued within one tick leave in few
 * socket writes (`RedisWriteCoalescer`), as the cache's reads do.
 */
export class RateLimitScriptRunner {
  private readonly deadlines: CommandDeadlines;
  private readonly writes: RedisWriteCoalescer;

  constructor(
    readonly client: RedisClient,
    shortestTimeout: number,
  ) {
    // A decision fails between its commandTimeout and a quarter of the shortest one later.
    this.deadlines = new CommandDeadlines({
      tickMs: Math.max(1, Math.ceil(shortestTimeout / 4)),
      timeoutError: (ms) => new RateLimitUnavailableError(RATE_LIMIT_TIMEOUT(ms)),
    });
    this.writes = new RedisWriteCoalescer(client);
  }

  run(script: LuaScript, keys: string[], args: Array<string | number>, timeoutMs: number): Promise<unknown> {
    if (this.client.status !== 'ready') {
      return Promise.reject(new RateLimitUnavailableError(RATE_LIMIT_NOT_CONNECTED(this.client.status)));
    }
    this.writes.hold();
    return script.run(this.client, keys, args, this.deadlines, timeoutMs);
  }

  /** Fails the decisions still waiting (shutdown). */
  close(): void {
    this.deadlines.failAll();
  }
}
