import { RedisToolkitError } from './redis-toolkit.error.js';

/** An outgoing packet, once encoded, is larger than the transport's `maxPayloadBytes`: it was not sent. */
export class RedisTransportPayloadTooLargeError extends RedisToolkitError {
  static readonly code = 'E_TRANSPORT_PAYLOAD_TOO_LARGE';

  constructor(
    message: string,
    readonly pattern: string,
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(message, RedisTransportPayloadTooLargeError.code, { pattern, bytes, maxBytes });
  }
}
