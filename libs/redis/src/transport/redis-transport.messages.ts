/** Message builders of the transport's errors and logs. Values passed here are already redacted. */

export const SEND_TIMED_OUT = (pattern: string, timeoutMs: number): string =>
  `No reply to "${pattern}" within sendTimeout ${timeoutMs} ms: is a server handling this pattern?`;

export const EMIT_TIMED_OUT = (pattern: string, timeoutMs: number): string =>
  `Redis did not confirm the event "${pattern}" within emitTimeout ${timeoutMs} ms (is Redis reachable?); its outcome is unknown: it may still have been stored.`;

export const CLIENT_CLOSED = (pattern: string): string =>
  `The Redis transport client was closed while "${pattern}" was waiting for its reply.`;

export const CLIENT_CLOSED_DURING_EMIT = (pattern: string): string =>
  `The Redis transport client was closed before Redis confirmed the event "${pattern}"; its outcome is unknown.`;

export const SUBSCRIBE_TIMED_OUT = (timeoutMs: number): string =>
  `Subscribing the reply channel took longer than connectTimeout ${timeoutMs} ms.`;

export const MALFORMED_MESSAGE = (where: string, reason: string): string =>
  `Dropped a malformed message on ${where}: ${reason}.`;

export const MALFORMED_ENTRY = (stream: string, id: string, reason: string): string =>
  `Malformed entry ${id} on stream ${stream} (${reason}); moved it to the dead-letter stream.`;

export const HANDLER_FAILED = (pattern: string, attempt: number, maxAttempts: number, reason: string): string =>
  `Handler of "${pattern}" failed (attempt ${attempt}/${maxAttempts}): ${reason}.`;

export const DEAD_LETTERED = (stream: string, id: string, attempts: number, reason: string): string =>
  `Entry ${id} of ${stream} failed ${attempts} time(s); moved it to the dead-letter stream: ${reason}.`;

export const WILDCARD_IN_STREAMS = (pattern: string): string =>
  `Event pattern "${pattern}" has glob characters, which streams mode cannot read (one stream per pattern): use exact patterns, or pub/sub mode.`;

export const STATUS_CHANGED = (side: string, status: string, target: string): string =>
  `Redis transport ${side} ${status} (${target}).`;

export const SHUTDOWN_TIMED_OUT = (count: number, timeoutMs: number): string =>
  `${count} handler(s) still running after shutdownTimeout ${timeoutMs} ms; closing anyway (their entries stay pending and will be reclaimed).`;

export const NO_EVENT_HANDLER = (pattern: string): string => `No event handler for "${pattern}"; message dropped.`;

export const EVENT_HANDLER_FAILED = (pattern: string, reason: string): string =>
  `Event handler of "${pattern}" failed (pub/sub events are not retried): ${reason}.`;

export const PAYLOAD_TOO_LARGE = (pattern: string, bytes: number, maxBytes: number): string =>
  `Packet for "${pattern}" is ${bytes} bytes once encoded, over maxPayloadBytes ${maxBytes}; it was not sent.`;

export const BUILT_IN_OPTION_REPLACED = (field: string, replacement: string): string =>
  `Invalid RedisTransport option "${field}" (an option of Nest's built-in Transport.REDIS): ${replacement}.`;

export const SEND_UNREACHABLE = (pattern: string, timeoutMs: number, target: string, state: string): string =>
  `Redis at ${target} is unreachable (connection ${state}): "${pattern}" got no reply within sendTimeout ${timeoutMs} ms.`;

export const SERVER_CLOSED_DURING_STREAM = 'The server closed before this reply stream completed.';

export const SEND_NOT_CONNECTED = (pattern: string, target: string, reason: string): string =>
  `Redis at ${target} is unreachable: "${pattern}" was not sent (${reason}).`;

export const RETURN_BUFFERS_ON_SERVER =
  "it applies to a client's replies only (the built-in server ignores it); remove it from the server options";

export const EMIT_NOT_REPLICATED = (
  pattern: string,
  id: string,
  acked: number,
  replicas: number,
  timeoutMs: number,
): string =>
  `Event "${pattern}" was stored (entry ${id}) but only ${acked} of ${replicas} replica(s) acknowledged it within streams.durability.timeout ${timeoutMs} ms; a failover could lose it, so it is not confirmed (retry it).`;
