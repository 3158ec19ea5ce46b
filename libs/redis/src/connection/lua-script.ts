import { createHash } from 'node:crypto';
import { Command } from 'ioredis';
import type { RedisClient } from './redis-connection.factory.js';
import type { CommandDeadlines } from './command-deadlines.js';

/** An argument of a script call (`ARGV[n]`); a Buffer is sent as is (binary cache entries). */
export type ScriptArgument = string | number | Buffer;

/**
 * The one way the library runs Lua (the locks' and the cache's scripts): with EVAL the first time on a connection
 * (which loads it), then with EVALSHA, falling back to EVAL when the server does not know it (restart, SCRIPT
 * FLUSH, failover, another Cluster node). So every call is one round trip, the first one included. Nothing is
 * added to the client: unlike ioredis' `defineCommand`, the connection a user injects keeps exactly the methods
 * ioredis gave it. Scripts only touch the keys passed in KEYS, so they are Cluster-safe when those keys share a
 * hash tag.
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
   * Runs the script, failing with the error `deadlines` is configured with when Redis has not answered within
   * `timeoutMs` (so no timer is created per call). The command itself stays queued on the connection: a script
   * that fails this way may still run later.
   *
   * @param replyEncoding `'utf8'` to receive bulk replies as strings, `null` for Buffers (binary payloads);
   *   omitted, ioredis' raw reply
   */
  run(
    client: RedisClient,
    keys: string[],
    args: ScriptArgument[],
    deadlines: CommandDeadlines,
    timeoutMs: number,
    replyEncoding?: BufferEncoding | null,
  ): Promise<unknown> {
    if (!this.loadedOn.has(client)) {
      this.loadedOn.add(client);
      return this.send(client, 'eval', this.source, keys, args, deadlines, timeoutMs, replyEncoding).promise;
    }
    const command = this.send(client, 'evalsha', this.sha, keys, args, deadlines, timeoutMs, replyEncoding);
    return command.promise.catch((error: unknown) => {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.send(client, 'eval', this.source, keys, args, deadlines, timeoutMs, replyEncoding).promise;
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
    replyEncoding: BufferEncoding | null | undefined,
  ): Command {
    const command = new Command(name, [script, keys.length, ...keys, ...args], { replyEncoding });
    deadlines.track(command, timeoutMs);
    // Settles through `command.promise`, which the caller handles.
    void client.sendCommand(command);
    return command;
  }
}
