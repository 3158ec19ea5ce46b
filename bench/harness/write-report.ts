import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SuiteReport } from './bench-report.interface.js';

/**
 * Writes a report to `<directory>/<suite>-<timestamp>.json`. The timestamp is the run's ISO 8601 start time with
 * `:` replaced by `-`, so the name is valid on every file system and sorts chronologically.
 *
 * @returns the path written
 */
export async function writeReport(report: SuiteReport, directory: string): Promise<string> {
  await mkdir(directory, { recursive: true });
  const path = join(directory, `${report.suite}-${report.environment.date.replace(/:/g, '-')}.json`);
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`, 'utf8');
  return path;
}
