import { ValidationPipe, type DynamicModule, type NestApplicationOptions } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { managementOnly } from '../../booking-management/src/index.js';
import { AppModule } from './app.module.js';
import { boundedValidationError } from './bounded-validation.js';
import { rejectDeepJson } from './json-depth.middleware.js';

/** Paths served on the management port only (`MANAGEMENT_PORT`): the Prometheus scrape and the OpenAPI document. */
export const MANAGEMENT_ONLY_PATHS = ['/metrics', '/docs'] as const;

/** Largest JSON body accepted; a booking request is well under 1 kB. Larger bodies get 413. */
export const MAX_JSON_BODY = '16kb';

/**
 * Applies the settings every booking-api instance needs, whether `main.ts` created it or a test did with
 * `Test.createTestingModule({ imports: [AppModule] }).compile()` and `createNestApplication()`: shutdown hooks,
 * the body size and depth limits, validation (400 listing the reasons, bounded) and the OpenAPI document at `/docs`;
 * `/docs` and `/metrics` answer on the management port only (see `createManagementServer`), 404 on the public one.
 *
 * @param app an application that has not been initialised yet
 */
export function configureApp<App extends NestExpressApplication>(app: App): App {
  // SIGTERM from Docker or Kubernetes then closes the app: Redis connections are QUIT, not dropped.
  app.enableShutdownHooks();
  // No ETag: Express would hash every JSON body to compute it, and a body turned into a Buffer for hashing leaves
  // as a second chunk after the headers (writev) instead of one write. No route answers conditional requests with
  // 304 on purpose: availability changes with every booking and says how the cache served it in `Cache-Status`.
  app.set('etag', false);
  app.use(managementOnly(MANAGEMENT_ONLY_PATHS));
  app.useBodyParser('json', { limit: MAX_JSON_BODY });
  app.use(rejectDeepJson);
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: false,
      exceptionFactory: boundedValidationError,
    }),
  );
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('booking-api')
      .setDescription('Venues, slots and bookings: the demo service of the Redis toolkit for NestJS.')
      .setVersion('1.0')
      .build(),
  );
  SwaggerModule.setup('docs', app, document);
  return app;
}

/**
 * Creates and configures booking-api without listening, so `main.ts` and tests build the same application.
 *
 * @param options Nest application options (a test passes `{ logger: false }`)
 * @example
 * ```ts
 * const app = await createApp();
 * await app.listen(3000);
 * ```
 */
export async function createApp(options?: NestApplicationOptions): Promise<NestExpressApplication> {
  return configureApp(await NestFactory.create<NestExpressApplication>(await rateLimitedAppModule(), options));
}

/**
 * `AppModule` plus `RateLimitingModule` (per-client limits on `POST /holds` and `POST /bookings`). Imported
 * dynamically: `@nestjs/throttler` 6 is CommonJS and needs Node's require(esm) for Nest 12, which Jest's module
 * runtime lacks, so in-process tests build `AppModule` alone and the limits are tested on real processes.
 */
export async function rateLimitedAppModule(): Promise<DynamicModule> {
  const { RateLimitingModule } = await import('./rate-limiting/rate-limiting.module.js');
  return { module: AppModule, imports: [RateLimitingModule] };
}
