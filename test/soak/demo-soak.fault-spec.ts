import { spawn } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';
import { TEST_DATABASE_URL } from '../../apps/booking-api/test/support/test-database.js';
import { sql } from '../../src/demo/sql-client.js';

/**
 * A one-minute `npm run soak` of the demo (its own Sentinel group, 2 API + 2 worker processes, the test
 * PostgreSQL), run as the command it is: one master restart half-way, then the table and the summary. Slower than
 * `npm test` allows (the four apps start from source, one after the other), hence a fault spec.
 */
describe('demo soak, one minute with a Redis master restart', () => {
  it('prints a row with per-process memory and the invariants, all holding, and cleans up its schema', async () => {
    const child = spawn(
      process.execPath,
      ['--import', './src/runtime/register.mjs', 'test/soak/run-soak.ts', '--minutes', '1', '--restart-every', '1'],
      { env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (data: Buffer) => (output += data.toString()));
    child.stderr.on('data', (data: Buffer) => (output += data.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    process.stdout.write(`${output}\n`);

    // The run's own failure lines go into the assertion, so a failed CI log names them (its middle is cut).
    const lines = output.split('\n');
    const failures = lines.filter((line) => line.startsWith('✘'));
    expect({ code, failures }).toEqual({ code: 0, failures: [] });
    const rows = lines.filter((line) => /^\| \d+ \|/.test(line));
    expect(rows).toHaveLength(1);
    const cells = rows[0]!.split('|').map((cell) => cell.trim());
    // min, RSS, heap, lag: four processes each, numbers.
    expect(cells[2]).toMatch(/^\d+\/\d+\/\d+\/\d+$/);
    expect(cells[3]).toMatch(/^\d+\/\d+\/\d+\/\d+$/);
    expect(cells[4]).toMatch(/^\d+\/\d+\/\d+\/\d+$/);
    // Some of each request kind succeeded.
    for (const cell of cells.slice(5, 9)) expect(Number(cell.split('/')[0])).toBeGreaterThan(0);
    expect(cells[9]).toMatch(/^\d+\/\d+\/\d+\/\d+$/);
    // oversold, released twice, stuck holds, events unhandled.
    expect(cells.slice(10, 14)).toEqual(['0', '0', '0', '0']);
    expect(cells[15]).toMatch(/master :\d+ restarted; :\d+ promoted [\d.]+ s, replica in sync/);
    expect(output).toMatch(
      /oversold 0, holds released twice 0, holds booked twice 0, stuck holds 0, events unhandled 0; apps healthy at the end 4\/4/,
    );
    expect(output).toContain('All invariants hold.');
    const schema = /schema (soak_[0-9a-f]{6})/.exec(output)?.[1];
    expect(schema).toBeDefined();
    const left = await sql(TEST_DATABASE_URL, `SELECT 1 FROM information_schema.schemata WHERE schema_name = $1`, [
      schema,
    ]);
    expect(left).toEqual([]);
  }, 600_000);
});
