import type { RedisClient } from '../../../connection/redis-connection.factory.js';

/** One argument of a Redis command as ioredis' `call` takes it. */
export type RedisArgument = string | number;

/**
 * A Redis command as a small, separately tested unit (as node-redis writes each command): the arguments it sends
 * and how its reply is parsed. `parse` accepts the reply shapes ioredis hands over on RESP2 (ioredis 5) and RESP3
 * (ioredis 6), so protocol differences are handled here and nowhere else, and it never throws on a reply it does
 * not recognise: it returns an empty result instead.
 */
export interface StreamCommand<Input, Reply> {
  readonly name: string;
  args(input: Input): RedisArgument[];
  parse(reply: unknown): Reply;
}

/** Sends `command` with `input` on `client` and parses its reply. */
export async function sendStreamCommand<Input, Reply>(
  client: RedisClient,
  command: StreamCommand<Input, Reply>,
  input: Input,
): Promise<Reply> {
  return command.parse(await client.call(command.name, ...command.args(input)));
}
