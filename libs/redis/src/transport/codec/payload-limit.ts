import { RedisTransportPayloadTooLargeError } from '../../errors/redis-transport-payload-too-large.error.js';
import { PAYLOAD_TOO_LARGE } from '../redis-transport.messages.js';

/**
 * The UTF-8 size of `wire` when it may exceed `maxBytes`, else 0. A UTF-16 code unit is at most 3 UTF-8 bytes, so
 * the common small packet is cleared by its length alone, without walking the string.
 */
export function oversizedBytes(wire: string | Buffer, maxBytes: number): number {
  if (typeof wire !== 'string') return wire.length > maxBytes ? wire.length : 0;
  if (wire.length * 3 <= maxBytes) return 0;
  const bytes = Buffer.byteLength(wire, 'utf8');
  return bytes > maxBytes ? bytes : 0;
}

/**
 * Client side: the error refusing an encoded packet over the limit (nothing reaches Redis), or `undefined`.
 * Returned rather than thrown so that callers on a synchronous hot path can reject their promise with it.
 */
export function payloadTooLarge(
  wire: string,
  maxBytes: number,
  pattern: string,
): RedisTransportPayloadTooLargeError | undefined {
  const bytes = oversizedBytes(wire, maxBytes);
  if (bytes === 0) return undefined;
  return new RedisTransportPayloadTooLargeError(PAYLOAD_TOO_LARGE(pattern, bytes, maxBytes), pattern, bytes, maxBytes);
}

/**
 * Receiving side (a server's requests and events, a client's replies): an incoming payload over the limit is treated
 * as malformed (logged; dead-lettered in streams mode) before the codec parses it.
 * @throws Error naming the size and the limit
 */
export function rejectOversizedPayload(raw: string | Buffer, maxBytes: number): void {
  const bytes = oversizedBytes(raw, maxBytes);
  if (bytes > 0) throw new Error(`payload of ${bytes} bytes exceeds maxPayloadBytes ${maxBytes}`);
}
