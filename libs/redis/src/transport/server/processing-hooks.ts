import { type BaseRpcContext, Transport } from '@nestjs/microservices';

/** The parts of a Nest `Server` that run its processing hooks (protected there, hence this structural view). */
export interface ProcessingHooksHost {
  transportId?: Transport | symbol;
  /** Nest 12's `Server#runWithProcessingHooks` (absent from Nest 11). */
  runWithProcessingHooks?: (context: BaseRpcContext, fn: (runEndHook: () => void) => Promise<void>) => unknown;
  onProcessingStartHook: (
    transportId: Transport | symbol,
    context: BaseRpcContext,
    done: () => Promise<unknown>,
  ) => void;
  onProcessingEndHook?: (transportId: Transport | symbol, context: BaseRpcContext) => void;
}

/**
 * Runs `fn` between Nest's processing start and end hooks: Nest 12's `runWithProcessingHooks`, or its equivalent
 * on Nest 11, whose Server has both hooks but not that runner (the end hook runs once, also when `fn` rejects).
 */
export function runWithinProcessingHooks(
  host: ProcessingHooksHost,
  context: BaseRpcContext,
  fn: (runEndHook: () => void) => Promise<void>,
): void {
  const nest12 = host.runWithProcessingHooks;
  if (nest12) {
    void nest12.call(host, context, fn);
    return;
  }
  const transportId = host.transportId ?? Transport.REDIS;
  host.onProcessingStartHook(transportId, context, async () => {
    let ended = false;
    const runEndHook = (): void => {
      if (ended) return;
      ended = true;
      host.onProcessingEndHook?.(transportId, context);
    };
    try {
      await fn(runEndHook);
    } catch (error) {
      runEndHook();
      throw error;
    }
  });
}
