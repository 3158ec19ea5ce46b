/**
 * What the library's capabilities report as they work, for metrics and tracing. Payloads carry no keys, values or
 * credentials: only names chosen by the app (cache names, message patterns) and numbers.
 */
export interface RedisInstrumentationEvents {
  /** A connection emitted an error (command errors surface per capability). */
  'connection.error': { connection: string };
  /** A connection lost its socket and ioredis is reconnecting. */
  'connection.reconnecting': { connection: string };
  /** A cache loader ran (on a miss or a refresh). */
  'cache.load': { cache: string; durationMs: number; failed: boolean };
  /** A lock was acquired after waiting `waitMs`. */
  'lock.acquired': { waitMs: number; mode: 'single' | 'redlock' };
  /** A lock could not be acquired. */
  'lock.failed': { waitMs: number; reason: string; mode: 'single' | 'redlock' };
  /** A held lock was lost (expired or taken over) before its release. */
  'lock.lost': { mode: 'single' | 'redlock' };
  /** A transport handler finished. */
  'transport.handled': {
    pattern: string;
    mode: 'pubsub' | 'streams';
    durationMs: number;
    outcome: 'ok' | 'failed' | 'dead-lettered';
  };
}

export type RedisInstrumentationEvent = keyof RedisInstrumentationEvents;

/** Reads the consumer lag of the streams a transport server consumes (pull-based: read at every scrape). */
export type ConsumerLagSource = () => Promise<Array<{ stream: string; group: string; lag: number }>>;
