import { settleWithin } from '../utils/settle-within.js';
import { errorText } from '../utils/error-text.js';

/** Settles like `work`, or rejects with `message` after `ms`; the timer never outlives the race. */
export function bounded<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  return settleWithin(work, ms, () => new Error(message));
}

/** An error's text with any `user:password@` of a URL removed, for health output. */
export function safeMessage(error: unknown): string {
  return errorText(error).replace(/(\w+:\/\/)[^@/\s]*@/g, '$1***@');
}

/** Milliseconds rounded to 0.01. */
export function roundMs(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/**
 * Why a connection attempt failed, without the address: a socket error by its code (`ECONNREFUSED`), whose message
 * would name host and port; anything else by its message, scrubbed of credentials and `host:port`.
 */
export function connectFailure(error: unknown): string {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
  }
  const code = /\b(E[A-Z]{4,})\b/.exec(safeMessage(error))?.[1];
  return code ?? safeMessage(error).replace(/\[?[\w.:-]*\]?:\d{2,5}\b/g, '<address>');
}

/**
 * Whether this terminus has the `degraded` status (terminus 12 does; 11, which Nest 11 apps use, has only up and
 * down).
 */
export function hasDegradedStatus(indicator: object): boolean {
  return typeof (indicator as { degraded?: unknown }).degraded === 'function';
}
