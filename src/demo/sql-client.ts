import pg from 'pg';

/**
 * Runs one query on a fresh connection, inside a transaction (required by the embedded database's single
 * session, harmless on PostgreSQL). For the runner's checks, not for traffic.
 */
export async function sql<Row extends object = Record<string, unknown>>(
  url: string,
  text: string,
  params: unknown[] = [],
  schema?: string,
): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url, options: schema ? `-c search_path=${schema}` : undefined });
  await client.connect();
  try {
    await client.query('BEGIN');
    const result = await client.query<Row>(text, params);
    await client.query('COMMIT');
    return result.rows;
  } finally {
    await client.end();
  }
}
