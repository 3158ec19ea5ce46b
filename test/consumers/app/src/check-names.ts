/**
 * The name of every check a consumer app runs. The monorepo's runner (test/consumers/consumers.e2e-spec.ts) reads
 * this list too, so each check shows up by name in `npm test` and a check that stops reporting fails there.
 */
export const CHECK_NAMES = {
  requireEntryPoints: 'require() loads the main entry and every entry point of the export map',
  importEntryPoints: 'import() loads the main entry and every entry point of the export map',
  oneCopyExports: 'one copy: require() and import() of every entry point return the very same classes and tokens',
  oneCopyInjector: 'one copy: the booted app resolves services and REDIS_MODULE_SETTINGS by the classes of either path',
  cacheable: '@Cacheable serves the second call from Redis',
  withLock: '@WithLock runs concurrent calls one at a time',
  cacheManager:
    'CACHE_MANAGER of @nestjs/cache-manager stores in Redis, and a constructor typed with its Cache class gets that instance',
  transportSend: 'transport: send() gets the reply of a @MessagePattern handler',
  transportEmit: 'transport: emit() reaches the @EventPattern handler',
  processingHooks: "transport: Nest's processing start and end hooks run once around a handler",
  health: 'health: RedisHealthIndicator reports redis up through terminus at GET /health',
  jestEntryPoints: 'loads the main entry and every entry point through the test runtime',
} as const;

/** Checks `node dist/main` runs (module loading, then behaviour). */
export const NODE_CHECKS = [
  CHECK_NAMES.requireEntryPoints,
  CHECK_NAMES.importEntryPoints,
  CHECK_NAMES.oneCopyExports,
  CHECK_NAMES.oneCopyInjector,
  CHECK_NAMES.cacheable,
  CHECK_NAMES.withLock,
  CHECK_NAMES.cacheManager,
  CHECK_NAMES.transportSend,
  CHECK_NAMES.transportEmit,
  CHECK_NAMES.processingHooks,
  CHECK_NAMES.health,
];

/** Tests the app's Jest e2e spec runs (the behaviour checks, plus loading through Jest's own module runtime). */
export const JEST_CHECKS = [
  CHECK_NAMES.jestEntryPoints,
  CHECK_NAMES.cacheable,
  CHECK_NAMES.withLock,
  CHECK_NAMES.cacheManager,
  CHECK_NAMES.transportSend,
  CHECK_NAMES.transportEmit,
  CHECK_NAMES.processingHooks,
  CHECK_NAMES.health,
];
