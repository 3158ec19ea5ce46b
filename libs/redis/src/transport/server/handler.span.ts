import type { BaseRpcContext } from '@nestjs/microservices';
import type { TransportSpanInfo } from '../../instrumentation/redis-transport.tracer.js';
import { RedisPubSubContext } from '../pubsub/redis-pubsub.context.js';
import { RedisStreamsContext } from '../streams/redis-streams.context.js';

/** What the span of a handler run is about, read from its RPC context (stream entry, or pub/sub message). */
export function handlerSpanInfo(
  pattern: string,
  context: BaseRpcContext,
  request: boolean,
  messageId: string | undefined,
): TransportSpanInfo {
  if (context instanceof RedisStreamsContext) {
    return {
      operation: 'process',
      pattern,
      mode: 'streams',
      request,
      destination: context.getStream(),
      messageId: context.getId(),
      group: context.getGroup(),
      attempt: context.getAttempt(),
    };
  }
  const destination = context instanceof RedisPubSubContext ? context.getChannel() : undefined;
  return { operation: 'process', pattern, mode: 'pubsub', request, destination, messageId };
}
