import base from './jest.config.js';

/**
 * The slow fault runs (`npm run test:faults`): Redis stopped or frozen for 10 s under load, one file at a time so
 * their timings do not disturb each other. Each prints the numbers docs/RELIABILITY.md reports.
 * @type {import('jest').Config}
 */
export default {
  ...base,
  testMatch: ['**/*.fault-spec.ts'],
  testTimeout: 120_000,
  maxWorkers: 1,
};
