import { describe, expect, it } from '@jest/globals';
import { ensurePostgres, portAnswers } from './ensure-postgres.js';

describe('ensurePostgres', () => {
  it('leaves a PostgreSQL that accepts connections alone', async () => {
    const lines: string[] = [];
    const url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    expect(await ensurePostgres(url, (l) => lines.push(l))).toEqual({ started: false });
    expect(lines).toEqual([]);
    const { hostname, port } = new URL(url);
    expect(await portAnswers(hostname, Number(port || 5432))).toBe(true);
  });
});
