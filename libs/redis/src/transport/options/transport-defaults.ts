/** Defaults of the transport (its streams part included), in one place. */
export const TRANSPORT_DEFAULTS = {
  sendTimeout: 5_000,
  emitTimeout: 10_000,
  maxPayloadBytes: 1_048_576,
  reconnectDelay: 100,
  reconnectMaxDelay: 5_000,
  shutdownTimeout: 10_000,
  maxLen: 100_000,
  deadLetterMaxLen: 10_000,
  maxAttempts: 5,
  retryDelay: 100,
  retryMaxDelay: 5_000,
  claimIdle: 30_000,
  claimInterval: 5_000,
  blockTime: 1_000,
  concurrency: 16,
  durabilityTimeout: 1_000,
} as const;

/** Names the transport sends to Redis as they are (client name, consumer group): letters, digits and : _ - . only. */
export const NAME_PATTERN = /^[A-Za-z0-9:_\-.]+$/;
