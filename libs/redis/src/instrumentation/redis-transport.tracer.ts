/**
 * What a transport span is about, in the transport's own words; the tracing entry point maps it onto OpenTelemetry's
 * messaging conventions. Never a payload: names, ids and counts only.
 */
export interface TransportSpanInfo {
  /** `send` (a request awaiting its reply), `emit` (an event), `process` (a handler run on the server). */
  operation: 'send' | 'emit' | 'process';
  /** The message pattern (the handler's pattern on the server). */
  pattern: string;
  mode: 'pubsub' | 'streams';
  /** `process` only: whether the handler answers a request (it then gets a reply) or handles an event. */
  request?: boolean;
  /** The channel or stream the message travels on, when known. */
  destination?: string;
  /** The request id, or the stream entry id. */
  messageId?: string;
  /** Streams mode: the consumer group and which attempt at the entry this is (1 for the first). */
  group?: string;
  attempt?: number;
}

/** Ends a producer span: with the error the send or emit failed with, or the message id Redis gave an emit. */
export type TransportSpanEnd = (outcome?: { error?: unknown; messageId?: string }) => void;

/**
 * Trace hooks around the transport, installed on `RedisInstrumentation` by the tracing entry point
 * (`@localcloudlab/nest-redis/tracing`). Without them the transport skips tracing with one property check.
 *
 * Context travels in the packet's `metadata` (Nest 12's `PacketMetadata`: `Record<string, string>`), which Nest's
 * built-in Redis server leaves intact and Nest 11's ignores.
 */
export interface RedisTransportTracer {
  /**
   * Starts the span of a `send` or `emit` in the caller's context and writes its trace context into `carrier`
   * (nothing when no SDK is registered).
   * @returns the function that ends the span
   */
  startProducer(info: TransportSpanInfo, carrier: Record<string, string>): TransportSpanEnd;
  /**
   * Runs a handler inside its span, the child of the trace context `metadata` carries (if any); the span ends when
   * `run`'s promise settles and records its rejection, or the error `run` reports through `fail` (a request
   * handler's error travels to the caller as a reply, not as a rejection).
   */
  runHandler<T>(
    info: TransportSpanInfo,
    metadata: Readonly<Record<string, string>> | undefined,
    run: (fail: (error: unknown) => void) => Promise<T>,
  ): Promise<T>;
}
