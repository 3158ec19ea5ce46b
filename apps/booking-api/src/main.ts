import { Logger } from '@nestjs/common';
import { createApp } from './app.factory.js';
import { API_CONFIG } from './config/api-config.constants.js';
import type { ApiConfig } from './config/api-config.interface.js';

/** Starts booking-api on `PORT` and logs where it listens (the HTTP address only: no Redis URL, no credentials). */
async function bootstrap(): Promise<void> {
  const app = await createApp();
  const { port } = app.get<ApiConfig>(API_CONFIG);
  await app.listen(port);
  new Logger('Bootstrap').log(`booking-api listening on ${await app.getUrl()}`);
}

await bootstrap();
