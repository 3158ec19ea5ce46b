import type { LoggerService } from '@nestjs/common';
import type { BaseRpcContext, MessageHandler, ReadPacket, Server, WritePacket } from '@nestjs/microservices';
import { finalize, isObservable, lastValueFrom } from 'rxjs';
import { SERVER_CLOSED_DURING_STREAM } from '../redis-transport.messages.js';

/** What running a request handler needs from its server. */
export interface RequestCallHost {
  /** Nest's `Server#send`: subscribes to a handler's observable and passes each reply on. */
  send: Server['send'];
  readonly logger: LoggerService;
  /** Cancels each reply stream still running; `close()` cuts them instead of draining them. */
  readonly replyStreams: Set<() => void>;
}

/** Runs an event handler to its end (promise or observable); rejects with what the handler threw. */
export async function callEvent(handler: MessageHandler, packet: ReadPacket, context: BaseRpcContext): Promise<void> {
  const result: unknown = await handler(packet.data, context);
  if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
}

/** Runs a request handler and passes its reply (or replies) to `respond`; resolves after the last one. */
export async function callRequest(
  host: RequestCallHost,
  context: BaseRpcContext,
  handler: MessageHandler,
  packet: ReadPacket,
  respond: (packet: WritePacket) => Promise<unknown>,
  runEndHook: () => void,
): Promise<void> {
  let result: unknown;
  try {
    result = await handler(packet.data, context);
  } catch (error) {
    runEndHook();
    await respond({ err: error, isDisposed: true }).catch((e: unknown) => host.logger.error(e));
    return;
  }
  if (isObservable(result)) {
    // Streams and errors (Nest's exception filters turn a throw into an erroring observable) take Nest's path.
    await new Promise<void>((resolve) => {
      let cancelled = false;
      const cancel = (): void => {
        cancelled = true;
        subscription.unsubscribe();
      };
      const subscription = host.send(result.pipe(finalize(runEndHook)), async (response: WritePacket) => {
        try {
          if (!cancelled || !response.isDisposed || response.err !== undefined) return await respond(response);
          // Unsubscribed by close(): the caller learns that its stream was cut short, not that it completed.
          if (response.response !== undefined) await respond({ response: response.response });
          return await respond({ err: { status: 'error', message: SERVER_CLOSED_DURING_STREAM }, isDisposed: true });
        } finally {
          if (response.isDisposed) {
            host.replyStreams.delete(cancel);
            resolve();
          }
        }
      });
      host.replyStreams.add(cancel);
    });
    return;
  }
  // A plain value: one reply, without the observable machinery and its extra tick.
  runEndHook();
  await respond({ response: result, isDisposed: true }).catch((e: unknown) => host.logger.error(e));
}
