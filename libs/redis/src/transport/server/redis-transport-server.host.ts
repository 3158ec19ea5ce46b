import type { LoggerService } from '@nestjs/common';
import type { BaseRpcContext, MessageHandler, ReadPacket, WritePacket } from '@nestjs/microservices';
import type { ResolvedTransportOptions } from '../options/resolve-transport-options.js';

/** What the pub/sub and streams halves of the server need from the Nest `Server` they belong to. */
export interface RedisTransportServerHost {
  readonly options: ResolvedTransportOptions;
  readonly log: LoggerService;
  /** Whether `close()` has begun: stop taking new work. */
  readonly closing: boolean;
  handlerFor(pattern: string): MessageHandler | null;
  /** Runs the Nest packet deserializer (synchronous unless a custom one returns a promise). */
  deserialize(value: unknown, channel: string): (ReadPacket & { id?: string }) | Promise<ReadPacket & { id?: string }>;
  /** Runs the Nest packet serializer on a response (synchronous unless a custom one returns a promise). */
  serializeResponse(packet: WritePacket & { id: string }): unknown;
  /** Runs an event handler to its end (promise or observable); rejects with what the handler threw. */
  runEvent(pattern: string, packet: ReadPacket, context: BaseRpcContext): Promise<void>;
  /** Runs a request handler, passing each response to `respond`; resolves once the last one was passed. */
  runRequest(
    context: BaseRpcContext,
    handler: MessageHandler,
    packet: ReadPacket,
    respond: (packet: WritePacket) => Promise<unknown>,
  ): Promise<void>;
  /** Reports a finished handler run to the instrumentation, if any. */
  report(pattern: string, startedAt: number, outcome: 'ok' | 'failed' | 'dead-lettered'): void;
  /** Counts `work` as in flight until it settles so shutdown can wait for it. */
  track(work: Promise<unknown>): void;
}
