import { swcOptions } from './src/runtime/swc-options.mjs';

/**
 * Jest in native ESM mode (run through `node --experimental-vm-modules`): Nest 12 ships ES modules only.
 * Every suite talks to a real redis-server; `test/global-setup.ts` makes sure one is listening.
 * @type {import('jest').Config}
 */
export default {
  rootDir: '.',
  testEnvironment: 'node',
  roots: ['<rootDir>/libs', '<rootDir>/apps', '<rootDir>/test', '<rootDir>/src'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  // The consumer apps run in their own step (jest.consumers.config.js): they install packages and build the library.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/consumers/'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { ...swcOptions, swcrc: false }] },
  moduleNameMapper: {
    '^@app/redis$': '<rootDir>/libs/redis/src/index.ts',
    '^@app/redis/(.*)$': '<rootDir>/libs/redis/src/$1/index.ts',
    '^@test/harness$': '<rootDir>/test/harness/index.ts',
    '^@test/contracts$': '<rootDir>/test/contracts/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  globalSetup: '<rootDir>/test/global-setup.mjs',
  testTimeout: 30_000,
  maxWorkers: 2,
};
