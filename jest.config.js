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
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { ...swcOptions, swcrc: false }] },
  moduleNameMapper: {
    '^@app/redis$': '<rootDir>/libs/redis/src/index.ts',
    '^@app/redis/(.*)$': '<rootDir>/libs/redis/src/$1/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  globalSetup: '<rootDir>/test/global-setup.mjs',
  testTimeout: 30_000,
  maxWorkers: 2,
};
