/** Context carried by every error of the library, for logs and for callers that branch on it. */
export interface RedisToolkitErrorContext {
  /** The option path, connection name, key or resource the error is about. */
  [field: string]: unknown;
}

/**
 * Base class of the library's errors: a stable `code` to branch on, the original `cause`, and context fields.
 * Messages never contain credentials.
 */
export class RedisToolkitError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly context: RedisToolkitErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}
