import { context, createContextKey, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { Database, Queryable } from './database.js';

/** Instrumentation scope of the demo's own spans (HTTP server, database). */
export const DEMO_TRACER_NAME = 'booking-demo';

/** `SELECT`, `INSERT`, … (the statement's first word) and the table it names first, if any: never a value. */
function summarise(sql: string): { operation: string; table?: string } {
  const operation = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? 'QUERY';
  const table = /\b(?:FROM|INTO|UPDATE|JOIN)\s+([a-z_][\w.]*)/i.exec(sql)?.[1];
  return { operation, table };
}

/**
 * Set while a statement's span is active: what that statement runs underneath (`PgDatabase#query` on a
 * single-session server runs it in a transaction of its own) is the same statement, not another span.
 */
const IN_STATEMENT = createContextKey('booking-demo.db.statement');

async function inSpan<T>(
  name: string,
  attributes: Record<string, string>,
  work: () => Promise<T>,
  statement: boolean,
): Promise<T> {
  if (context.active().getValue(IN_STATEMENT)) return work();
  const tracer = trace.getTracer(DEMO_TRACER_NAME);
  return tracer.startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span: Span) => {
    try {
      return statement ? await context.with(context.active().setValue(IN_STATEMENT, true), work) : await work();
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      // The class or the SQLSTATE, never the message (it can quote a value).
      const code = (error as { code?: unknown }).code;
      span.setAttribute('error.type', typeof code === 'string' ? code : (error as Error).constructor?.name);
      throw error;
    } finally {
      span.end();
    }
  });
}

function tracedQuery(target: Queryable): Queryable['query'] {
  const query = target.query.bind(target);
  return <Row extends object>(sql: string, params?: unknown[]) => {
    const { operation, table } = summarise(sql);
    return inSpan(
      table ? `${operation} ${table}` : operation,
      {
        'db.system.name': 'postgresql',
        'db.operation.name': operation,
        ...(table ? { 'db.collection.name': table } : {}),
      },
      () => query<Row>(sql, params),
      true,
    );
  };
}

/**
 * Wraps a {@link Database}'s `query` and `transaction` (and the queries run inside it) in OpenTelemetry client
 * spans: `SELECT slots`, `INSERT bookings`, … with `db.system.name=postgresql`, `db.operation.name` and
 * `db.collection.name`; a transaction is a `transaction` span whose children are its statements. No span holds a
 * parameter value or the SQL text. Used when the demo's tracing is on (`TRACES_FILE`); the instance is returned,
 * patched.
 */
export function traceQueries<D extends Database>(db: D): D {
  const transaction = db.transaction.bind(db);
  db.query = tracedQuery(db);
  db.transaction = <T>(work: (tx: Queryable) => Promise<T>) =>
    inSpan(
      'transaction',
      { 'db.system.name': 'postgresql', 'db.operation.name': 'transaction' },
      () => transaction((tx) => work({ query: tracedQuery(tx) })),
      false,
    );
  return db;
}
