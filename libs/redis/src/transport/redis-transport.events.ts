/** Connection status of a {@link RedisTransportServer} or {@link RedisTransportClient}, pushed to its `status` stream. */
export enum RedisTransportStatus {
  /** Every connection of the transport is ready. */
  CONNECTED = 'connected',
  /** A connection dropped; the transport keeps reconnecting with backoff (it never gives up on its own). */
  RECONNECTING = 'reconnecting',
  /** The transport was closed. */
  DISCONNECTED = 'disconnected',
}

/**
 * Which of the transport's connections an event comes from: `pub` runs commands (PUBLISH, XADD, XACK, …), `sub`
 * holds the pub/sub subscriptions, `stream:<pattern>` is the blocking reader of one stream.
 */
export type RedisTransportConnectionRole = 'pub' | 'sub' | `stream:${string}`;

/**
 * What `unwrap()` returns: the ioredis clients in the order Nest's `Transport.REDIS` returns them (`[pub, sub]`,
 * then a server's stream readers), so `const [pub, sub] = client.unwrap()` works as with the built-in, plus
 * `get(role)` to pick one by role.
 */
export type RedisTransportClients<TClient = unknown> = readonly TClient[] & {
  get(role: RedisTransportConnectionRole): TClient | undefined;
};

/**
 * Events of the underlying ioredis connections, as `server.on()` / `client.on()` accept them. Each callback gets
 * the role of the connection first, as Nest's Redis transport does.
 */
export type RedisTransportEvents = {
  connect: (role: RedisTransportConnectionRole) => void;
  ready: (role: RedisTransportConnectionRole) => void;
  error: (role: RedisTransportConnectionRole, error: Error) => void;
  close: (role: RedisTransportConnectionRole) => void;
  reconnecting: (role: RedisTransportConnectionRole, delayMs: number) => void;
  end: (role: RedisTransportConnectionRole) => void;
};
