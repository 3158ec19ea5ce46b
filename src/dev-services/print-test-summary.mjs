import { existsSync, readFileSync } from 'node:fs';

/**
 * Prints one closing line over every Jest run of `npm test` (`N passed, N failed`), read from the JSON reports the
 * runs wrote with --outputFile. Exits non-zero when a report is missing or anything failed.
 */
const reports = process.argv.slice(2);
let passed = 0;
let failed = 0;
let pending = 0;
for (const file of reports) {
  if (!existsSync(file)) {
    process.stderr.write(`missing Jest report: ${file}\n`);
    process.exit(1);
  }
  const result = JSON.parse(readFileSync(file, 'utf8'));
  passed += result.numPassedTests;
  failed += result.numFailedTests + result.numRuntimeErrorTestSuites;
  pending += result.numPendingTests + result.numTodoTests;
}
process.stdout.write(`\ntests: ${passed} passed, ${failed} failed${pending ? `, ${pending} skipped` : ''}\n`);
process.exit(failed > 0 || pending > 0 ? 1 : 0);
