/**
 * A short, loggable text for anything thrown: an Error's message, an RpcException payload's message, a string, or
 * JSON. The library's one error-to-text helper (never `error instanceof Error ? error.message : String(error)`
 * inline). It never throws, whatever it is given.
 */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  if (error !== null && typeof error === 'object') {
    try {
      const message = (error as { message?: unknown }).message;
      if (typeof message === 'string') return message;
      return JSON.stringify(error) ?? String(error);
    } catch {
      return Object.prototype.toString.call(error);
    }
  }
  return String(error);
}

/** `error` itself when it is an Error, else an Error whose message is {@link errorText} of it (for `reject`). */
export function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(errorText(error));
}

/**
 * What a trace may say about an error: its `code` (`ECONNRESET`, `E_LOCK_NOT_ACQUIRED`) or its class name, never its
 * message (which may quote data). `'unknown'` for a thrown non-error without a code.
 */
export function errorKind(error: unknown): string {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  if (typeof code === 'string' && code.length > 0) return code;
  if (error instanceof Error) return error.name;
  const status = (error as { status?: unknown } | null | undefined)?.status;
  return typeof status === 'string' && status.length > 0 ? status : 'unknown';
}
