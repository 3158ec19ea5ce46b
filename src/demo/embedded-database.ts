import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** An in-memory PGlite served over the PostgreSQL wire protocol, so several API processes share one database. */
export interface EmbeddedDatabase {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  url: string;
  stop(): Promise<void>;
}

/** Connections the socket server accepts: two replicas' pools plus the runner's own checks. */
const MAX_CONNECTIONS = 64;

/**
 * Starts PGlite behind `@electric-sql/pglite-socket` on a free local port. The server multiplexes every client
 * onto PGlite's single session: clients must run each statement inside a transaction (booking-api does with
 * `DATABASE_SINGLE_SESSION=true`), because only transactions keep one client's extended-protocol messages from
 * interleaving with another's.
 */
export async function serveEmbeddedDatabase(): Promise<EmbeddedDatabase> {
  const db = await PGlite.create();
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: MAX_CONNECTIONS });
  let port = 0;
  server.addEventListener('listening', (event) => {
    port = (event as CustomEvent<{ port: number }>).detail.port;
  });
  await server.start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
