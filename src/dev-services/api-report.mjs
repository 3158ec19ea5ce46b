import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';

/**
 * The API reports of @localcloudlab/nest-redis: builds the library's declarations into .cache/api/dts (tsc with
 * libs/redis/tsconfig.lib.json, so the reports never depend on the package's export map or a previous build), then
 * runs API Extractor once per entry point.
 *
 *   node src/dev-services/api-report.mjs           check: exits 1 when a report in libs/redis/etc differs (CI)
 *   node src/dev-services/api-report.mjs --update  rewrite the reports, to review and commit with the change
 */
const update = process.argv.includes('--update');
const root = fileURLToPath(new URL('../../', import.meta.url));
const lib = `${root}libs/redis/`;
const dts = `${root}.cache/api/dts`;
const configs = [
  'api-extractor.json',
  'api-extractor.health.json',
  'api-extractor.metrics.json',
  'api-extractor.transport.json',
  'api-extractor.schedule.json',
  'api-extractor.leader.json',
  'api-extractor.semaphore.json',
  'api-extractor.rate-limit.json',
  'api-extractor.tracing.json',
];

rmSync(dts, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const build = spawnSync(
  process.execPath,
  [
    tsc,
    '-p',
    `${lib}tsconfig.lib.json`,
    '--emitDeclarationOnly',
    '--outDir',
    dts,
    '--sourceMap',
    'false',
    '--inlineSources',
    'false',
  ],
  { stdio: 'inherit' },
);
if (build.status !== 0) process.exit(build.status ?? 1);

const drifted = [];
for (const file of configs) {
  const config = ExtractorConfig.loadFileAndPrepare(`${lib}${file}`);
  // Never a local build: API Extractor would compare and write the report itself, with the absolute paths of this
  // checkout in the warnings it cannot attach to an item. The report is compared here with those paths made
  // relative to the repository, so a check passes in any clone.
  const result = Extractor.invoke(config, { localBuild: false, showVerboseMessages: false });
  const [report] = config.reportConfigs;
  const committed = join(config.reportFolder, report.fileName);
  const generated = join(config.reportTempFolder, report.fileName);
  if (!existsSync(generated)) {
    process.stderr.write(
      `API Extractor failed on ${file}: ${result.errorCount} errors, ${result.warningCount} warnings\n`,
    );
    process.exit(1);
  }
  const text = readFileSync(generated, 'utf8').split(root).join('');
  writeFileSync(generated, text);
  const current = existsSync(committed) ? readFileSync(committed, 'utf8') : undefined;
  if (update) {
    if (current !== text) writeFileSync(committed, text);
  } else if (current !== text) {
    drifted.push(committed);
    spawnSync('git', ['--no-pager', 'diff', '--no-index', '--', committed, generated], { stdio: 'inherit' });
  }
}

if (drifted.length > 0) {
  process.stderr.write(
    `\nThe public API differs from its committed report:\n${drifted.map((f) => `  ${relative(root, f)}`).join('\n')}\n` +
      'If the change is intended, run `npm run api:update`, review the diff and commit the report with it.\n',
  );
  process.exit(1);
}
process.stdout.write(update ? 'API reports updated (libs/redis/etc).\n' : 'API reports match the public API.\n');
