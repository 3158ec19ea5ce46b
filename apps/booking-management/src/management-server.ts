import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { INestApplication } from '@nestjs/common';

/** Marks a request that arrived on the management listener; a symbol, so no header or client can set it. */
const MANAGEMENT_REQUEST = Symbol('booking-demo:management-request');

type MarkedRequest = IncomingMessage & { [MANAGEMENT_REQUEST]?: true };
type Next = (error?: unknown) => void;

/**
 * Whether `request` came in on the management port (see {@link createManagementServer}) rather than the public one.
 *
 * @param request the Node.js (or Express) request
 */
export function isManagementRequest(request: IncomingMessage): boolean {
  return (request as MarkedRequest)[MANAGEMENT_REQUEST] === true;
}

/**
 * Express middleware for the public listener: answers 404, in Nest's not-found body, for the paths that only the
 * management port serves (`/metrics`, `/docs`…), so the public port does not even say they exist. Register it with
 * `app.use()` before `SwaggerModule.setup()`, whose routes are added to Express at once.
 *
 * @param prefixes path prefixes served on the management port only (`'/metrics'` covers `/metrics` and `/metrics/…`)
 */
export function managementOnly(prefixes: readonly string[]) {
  const hidden = (path: string) =>
    prefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}-`));
  return (request: IncomingMessage, response: ServerResponse, next: Next): void => {
    const path = (request.url ?? '/').split('?')[0]!;
    if (isManagementRequest(request) || !hidden(path)) return next();
    response.statusCode = 404;
    response.setHeader('Content-Type', 'application/json; charset=utf-8');
    const method = request.method ?? 'GET';
    // Nest's own 404 body, without echoing more of the URL than the path the client already knows.
    const shownPath = path.length > 100 ? `${path.slice(0, 100)}…` : path;
    response.end(JSON.stringify({ message: `Cannot ${method} ${shownPath}`, error: 'Not Found', statusCode: 404 }));
  };
}

/**
 * A second HTTP server over the same Nest application, for the management port: every request it accepts is
 * marked as a management request, so `/metrics`, `/docs` and the health details answer there and nowhere else.
 * It is not listening yet (`main.ts` calls `listen(MANAGEMENT_PORT)`; tests hand it to supertest), and closes when
 * the application's own server closes (`app.close()`, SIGTERM).
 *
 * @param app an initialised Nest application on the Express platform
 */
export function createManagementServer(app: INestApplication): Server {
  const express = app.getHttpAdapter().getInstance() as (request: IncomingMessage, response: ServerResponse) => void;
  const server = createServer((request, response) => {
    (request as MarkedRequest)[MANAGEMENT_REQUEST] = true;
    express(request, response);
  });
  (app.getHttpServer() as Server).once('close', () => server.close());
  return server;
}
