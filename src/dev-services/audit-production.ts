import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { judgeAuditReport, parseAuditExceptions, type Finding, type NpmAuditReport } from './audit-report.js';

/**
 * `npm run audit:prod`: `npm audit --omit=dev`, failing on any high or critical advisory that
 * `audit-exceptions.json` does not explain. Exit codes: 0 passed, 1 unexplained findings (or a broken exceptions
 * file), 3 the audit could not run (the registry has no audit endpoint, or no network) — `.ci/run` reports that
 * and goes on, since it says nothing about the dependencies.
 */
const EXIT_UNAVAILABLE = 3;

const exceptionsFile = fileURLToPath(new URL('./audit-exceptions.json', import.meta.url));
const exceptions = parseAuditExceptions(JSON.parse(readFileSync(exceptionsFile, 'utf8')));

const npm = spawnSync('npm', ['audit', '--omit=dev', '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
let report: NpmAuditReport;
try {
  report = JSON.parse(npm.stdout) as NpmAuditReport;
} catch {
  report = { message: (npm.stderr || npm.stdout || `npm exited with ${npm.status}`).trim() };
}

const verdict = judgeAuditReport(report, exceptions);
const line = (f: Finding) => `  ${f.severity.padEnd(8)} ${f.package} ${f.range} — ${f.title} (${f.advisory})`;

if (verdict.kind === 'unavailable') {
  process.stdout.write(`npm audit could not run: ${verdict.reason}\n`);
  process.exit(EXIT_UNAVAILABLE);
}
for (const stale of verdict.staleExceptions) {
  process.stdout.write(`exception no longer needed (remove it): ${stale.advisory} ${stale.package}\n`);
}
if (verdict.explained.length > 0) {
  process.stdout.write(
    `high/critical advisories explained in ${exceptionsFile}:\n${verdict.explained.map(line).join('\n')}\n`,
  );
}
if (verdict.unexplained.length > 0) {
  process.stdout.write(
    `high/critical advisories in production dependencies, not explained:\n${verdict.unexplained.map(line).join('\n')}\n` +
      `Upgrade, or add an entry with the reason to ${exceptionsFile}.\n`,
  );
  process.exit(1);
}
process.stdout.write('npm audit --omit=dev: no unexplained high or critical advisory.\n');
