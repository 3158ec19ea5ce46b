import { Logger } from '@nestjs/common';
import { createManagementServer, startDemoTracing } from '../../booking-management/src/index.js';
import { createApp } from './app.factory.js';
import { API_CONFIG } from './config/api-config.constants.js';
import type { ApiConfig } from './config/api-config.interface.js';

/** How long an idle keep-alive connection stays open. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/**
 * Starts booking-api: the API on `PORT` (bookings, availability, bare health for probes) and the management side
 * on `MANAGEMENT_PORT` (`/metrics`, `/docs`, health details); logs where each listens (HTTP addresses only: no
 * Redis URL, no credentials).
 */
async function bootstrap(): Promise<void> {
  // TRACES_FILE set: spans appended to that file (registered before the app, whose modules read it); else nothing.
  startDemoTracing('booking-api');
  const app = await createApp();
  const { port, managementPort } = app.get<ApiConfig>(API_CONFIG);
  // Idle keep-alive connections outlive the clients' and load balancers' own idle timeouts (60 s on most cloud
  // load balancers and ingresses): with Node's 5 s default the server may close a socket the client is just reusing,
  // and that request fails with a reset (a 502 behind a proxy). Headers must be allowed a little longer still.
  const server = app.getHttpServer();
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
  await app.listen(port);
  const management = createManagementServer(app);
  await new Promise<void>((resolve, reject) => management.once('error', reject).listen(managementPort, resolve));
  const logger = new Logger('Bootstrap');
  logger.log(`booking-api listening on ${await app.getUrl()}`);
  logger.log(`booking-api management (metrics, docs, health details) on port ${managementPort}`);
}

await bootstrap();
