/**
 * The database could not be reached or gave no connection in time (pool wait over, server refusing or restarting):
 * the request may succeed if retried shortly, so it answers 503 (see `DatabaseUnavailableFilter`), not 500. The
 * driver's error is kept as `cause` for the log; its text never reaches the client.
 */
export class DatabaseUnavailableError extends Error {
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`The database is unavailable (${reason}).`, options);
    this.name = 'DatabaseUnavailableError';
  }
}

/** Network errors of the driver's socket. */
const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE']);
/**
 * PostgreSQL SQLSTATEs that say "not now" rather than "wrong request": class 08 (connection exception), 53300
 * (too many connections), 57P01–57P03 (admin shutdown, crash shutdown, cannot connect now).
 */
const UNAVAILABLE_STATES = /^(08...|53300|57P0[123])$/;

/**
 * The reason `error` means the database is unavailable, or `undefined` for any other error (a constraint, bad SQL):
 * those stay what they are.
 */
export function unavailableReason(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && SOCKET_ERRORS.has(code)) return code;
  if (typeof code === 'string' && UNAVAILABLE_STATES.test(code)) return `SQLSTATE ${code}`;
  // pg's pool and client say these in words only.
  if (/timeout exceeded when trying to connect/i.test(error.message)) return 'no pooled connection in time';
  if (/Connection terminated/i.test(error.message)) return 'connection terminated';
  return undefined;
}

/** `error` as a {@link DatabaseUnavailableError} when it means unavailability, else unchanged. */
export function asUnavailable(error: unknown): unknown {
  const reason = unavailableReason(error);
  return reason === undefined ? error : new DatabaseUnavailableError(reason, { cause: error });
}
