/** Why a credentials provider gave nothing usable; never holds what it returned (it may be a secret). */
export const CREDENTIALS_PROVIDER_FAILED = (field: string, reason: string): string =>
  `The credentials function of RedisModule option "${field}" failed: ${reason}`;

export const CREDENTIALS_PROVIDER_INVALID = (field: string, got: string): string =>
  `The credentials function of RedisModule option "${field}" must return (or resolve to) { username?: string, ` +
  `password: string } with a non-empty password; it returned ${got}`;
