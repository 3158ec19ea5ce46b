import base from './jest.config.js';

/**
 * The consumer matrix (test/consumers): packs the library and installs it into fresh Nest 12 ESM, Nest 12 CommonJS
 * and Nest 11 CommonJS apps outside the monorepo, which boot against the real Redis. One file, run on its own after
 * the main suites, so its npm installs and builds never compete with them for the machine.
 * @type {import('jest').Config}
 */
export default {
  ...base,
  displayName: 'consumers',
  roots: ['<rootDir>/test/consumers'],
  testMatch: ['<rootDir>/test/consumers/consumers.e2e-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  maxWorkers: 1,
};
