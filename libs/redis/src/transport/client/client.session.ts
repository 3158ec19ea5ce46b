import type { LoggerService } from '@nestjs/common';
import type { ReadPacket } from '@nestjs/microservices';
import type { CommandTicket } from '../../connection/connection-gate.js';
import { settleWithin } from '../../utils/settle-within.js';
import { RedisPubSubClient } from '../pubsub/redis-pubsub.client.js';
import { RedisTransportConnections } from '../redis-transport.connections.js';
import type { RedisTransportEvents, RedisTransportStatus } from '../redis-transport.events.js';
import { SUBSCRIBE_TIMED_OUT } from '../redis-transport.messages.js';
import type { RedisTransportMode } from '../options/redis-transport-options.interface.js';
import type { ResolvedTransportOptions } from '../options/resolve-transport-options.js';
import { RedisStreamsClient } from '../streams/redis-streams.client.js';
import { checkStreamsDurability } from '../streams/stream-durability.js';

/** A connected client: its connections and the pub/sub and streams halves that use them. */
export interface ClientSession {
  connections: RedisTransportConnections;
  pubsub: RedisPubSubClient;
  streams: RedisStreamsClient;
}

/** A listener registered with the client's `on()`, attached to the connections of every session. */
export type ClientConnectionListener = [keyof RedisTransportEvents, RedisTransportEvents[keyof RedisTransportEvents]];

/**
 * Opens the client's connections (`pub`, `sub`) and subscribes to its reply channel; closes what it opened when any
 * step fails.
 */
export async function openClientSession(
  options: ResolvedTransportOptions,
  status$: { next(status: RedisTransportStatus): void },
  logger: LoggerService,
  listeners: readonly ClientConnectionListener[],
  onReply: (raw: string | Buffer) => void,
): Promise<ClientSession> {
  const connections = new RedisTransportConnections(options, 'client', status$, logger);
  for (const [event, callback] of listeners) connections.on(event, callback);
  const pub = connections.open('pub', { autoPipelining: true });
  const sub = connections.open('sub', { blocking: true, shardedSubscriptions: options.shardedPubSub });
  try {
    await connections.connectAll();
    const durability = options.mode === 'streams' ? options.streams.durability : undefined;
    if (durability) await checkStreamsDurability(pub, durability);
    const pubsub = new RedisPubSubClient(options, pub, sub);
    // The subscriber waits for Redis forever (it must, to resubscribe after an outage): bound the first SUBSCRIBE
    // so that a Redis lost right after connecting fails this connect() instead of hanging it.
    await settleWithin(
      pubsub.listen(onReply),
      options.connection.connectTimeout,
      () => new Error(SUBSCRIBE_TIMED_OUT(options.connection.connectTimeout)),
    );
    return { connections, pubsub, streams: new RedisStreamsClient(options, pub) };
  } catch (error) {
    await connections.closeAll();
    throw error;
  }
}

/** `ready` when all the session's connections are, else the status of the first that is not (or `connecting`). */
export function sessionState(session: ClientSession | undefined): string {
  if (!session) return 'connecting';
  for (const client of session.connections.all.values()) if (client.status !== 'ready') return client.status;
  return 'ready';
}

/**
 * Sends an event on a session: appended to its stream (streams mode, resolving with the entry id) or published.
 * Not `async`: returning the command's own promise spares each emit the ticks of wrapping it in another.
 */
export function sendSessionEvent(
  session: ClientSession,
  mode: RedisTransportMode,
  pattern: string,
  packet: ReadPacket,
  ticket: CommandTicket | undefined,
): Promise<unknown> {
  if (mode === 'streams') return session.streams.event(pattern, packet, ticket);
  return session.pubsub.event(pattern, packet, ticket).then(toUndefined);
}

function toUndefined(): undefined {
  return undefined;
}
