import base from './jest.config.js';

// Inherited by the Jest workers and the processes tests spawn: src/runtime/ts-loader.mjs maps `ioredis` to it.
process.env.NEST_REDIS_TEST_IOREDIS = 'ioredis-v6';

/**
 * Smoke suite on ioredis 6 (RESP3 by default): the module suites and one suite per capability run again with every `ioredis` import mapped to
 * the `ioredis-v6` alias package, since the library declares `ioredis: ^5.4 || ^6` as its peer range.
 * @type {import('jest').Config}
 */
export default {
  ...base,
  displayName: 'ioredis@6',
  globals: { EXPECTED_RESP_PROTOCOL: 3 },
  roots: ['<rootDir>/libs/redis/test'],
  testMatch: [
    '<rootDir>/libs/redis/test/module/**/*.e2e-spec.ts',
    '<rootDir>/libs/redis/test/cache/cache-service.e2e-spec.ts',
    '<rootDir>/libs/redis/test/cache/cache-contract-single-node.e2e-spec.ts',
    '<rootDir>/libs/redis/test/lock/lock-service.e2e-spec.ts',
    '<rootDir>/libs/redis/test/lock/lock-contract-single-node.e2e-spec.ts',
    '<rootDir>/libs/redis/test/transport/pubsub.e2e-spec.ts',
    '<rootDir>/libs/redis/test/transport/streams.e2e-spec.ts',
    '<rootDir>/libs/redis/test/transport/emit-timeout.e2e-spec.ts',
    '<rootDir>/libs/redis/test/security/minimal-acl.e2e-spec.ts',
    '<rootDir>/libs/redis/test/connection/rotating-credentials.e2e-spec.ts',
    '<rootDir>/libs/redis/test/faults/sentinel-detector-reconnect.e2e-spec.ts',
  ],
  moduleNameMapper: {
    '^ioredis$': '<rootDir>/node_modules/ioredis-v6/built/index.js',
    ...base.moduleNameMapper,
  },
};
