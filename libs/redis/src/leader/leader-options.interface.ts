/** One election: a name, and optionally its own lease ttl. */
export interface LeaderElectionOptions {
  /** The election's name: every replica campaigning for the same role uses the same one. */
  name: string;
  /**
   * Lease ttl of this election.
   * @default the module's `ttl`
   */
  ttl?: number;
}

/** Options of `RedisLeaderModule.forRoot`. Durations are in milliseconds. */
export interface LeaderModuleOptions {
  /**
   * The elections this process campaigns in (names or `{ name, ttl }`); `LeaderService` methods take the name, the
   * first one is the default.
   * @default ['default']
   */
  elections?: Array<string | LeaderElectionOptions>;
  /**
   * Lease ttl: how long a crashed leader keeps the role before another candidate takes over. The lease is renewed
   * every `ttl / 3` while held (the lock watchdog). A graceful shutdown hands it over at once.
   * @default 10000
   */
  ttl?: number;
  /**
   * Fallback poll interval of a waiting candidate (a hand-over wakes it at once; polling only matters after a crash).
   * @default 100
   */
  retryDelay?: number;
  /**
   * Random extra delay added to each poll, up to this many ms.
   * @default 50
   */
  retryJitter?: number;
  /**
   * Campaign from application bootstrap. When `false`, call `LeaderService.start()`.
   * @default true
   */
  autoStart?: boolean;
}

/** The options after validation. */
export interface ResolvedLeaderOptions {
  elections: Array<{ name: string; ttl: number }>;
  retryDelay: number;
  retryJitter: number;
  autoStart: boolean;
}
