/** The user name and password a connection authenticates with (`AUTH [username] password`). */
export interface RedisCredentials {
  /**
   * ACL user name. When left out, the connection's `username` (or the one in its `url`) is used, else `default`.
   */
  username?: string;
  /** The password or short-lived token. Never logged. */
  password: string;
}

/**
 * Returns the credentials for the next connection attempt, synchronously or as a promise. Called before every
 * connect and reconnect of every connection built from the options it is set on, so a short-lived cloud token can be
 * fetched fresh each time (cache it inside the function when fetching is expensive).
 */
export type RedisCredentialsProvider = () => RedisCredentials | Promise<RedisCredentials>;
