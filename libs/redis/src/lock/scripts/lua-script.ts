import { createHash } from 'node:crypto';
import { Command } from 'ioredis';
import type { RedisClient } from '../../connection/redis-connection.factory.js';
import type { CommandDeadlines } from '../../connection/command-deadlines.js';

type ScriptArgument = string | number;

/**
 * A Lua script run with EVAL the first time on a connection (which loads it), then with EVALSHA, falling back to
 * EVAL when the server does not know it (restart, SCRIPT FLUSH, failover, another Cluster node). So every call is
 * one round trip, the first one included. Scripts only touch the keys passed in KEYS, so they are Cluster-safe when
 * those keys share a hash tag.
 */
export class LuaScript {
  readonly sha: string;
  /** Clients this script was sent to with EVAL. */
  private readonly loadedOn = new WeakSet<RedisClient>();

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /**
   * Runs the script, failing with `LockTimeoutError` when Redis has not answered within `timeoutMs` (checked by
   * `deadlines`, so no timer is created per call). The command itself stays queued on the connection: a script
   * that fails this way may still run later.
   */
  run(
    client: RedisClient,
    keys: string[],
    args: ScriptArgument[],
    deadlines: CommandDeadlines,
    timeoutMs: number,
  ): Promise<unknown> {
    if (!this.loadedOn.has(client)) {
      this.loadedOn.add(client);
      return this.send(client, 'eval', this.source, keys, args, deadlines, timeoutMs).promise;
    }
    const command = this.send(client, 'evalsha', this.sha, keys, args, deadlines, timeoutMs);
    return command.promise.catch((error: unknown) => {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.send(client, 'eval', this.source, keys, args, deadlines, timeoutMs).promise;
    });
  }

  private send(
    client: RedisClient,
    name: 'evalsha' | 'eval',
    script: string,
    keys: string[],
    args: ScriptArgument[],
    deadlines: CommandDeadlines,
    timeoutMs: number,
  ): Command {
    const command = new Command(name, [script, keys.length, ...keys, ...args]);
    deadlines.track(command, timeoutMs);
    // Settles through `command.promise`, which the caller handles.
    void client.sendCommand(command);
    return command;
  }
}
