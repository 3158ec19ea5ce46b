import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { getRedisConnectionToken, type RedisClient, type RedisModuleOptions } from '@app/redis';
import { createManagementServer } from '../../../booking-management/src/index.js';
import { configureApp } from '../../src/app.factory.js';
import { AppModule } from '../../src/app.module.js';
import { API_CONFIG } from '../../src/config/api-config.constants.js';
import type { ApiConfig, DatabaseConfig } from '../../src/config/api-config.interface.js';
import { deleteKeysWithPrefix } from '@test/harness';
import { TEST_DATABASE_URL, type TestSchema } from './test-database.js';

/** What a test changes in the API's configuration; the rest takes the test defaults. */
export interface BootApiOptions {
  redis: RedisModuleOptions;
  /** The schema to run in, on the test PostgreSQL; omit for the embedded PGlite. */
  schema?: TestSchema;
  database?: Partial<DatabaseConfig>;
  seedDemoData?: boolean;
  bookingLockWaitMs?: number;
  holdTtlMs?: number;
  paymentDelayMs?: number;
  /** Providers to replace, e.g. the events publisher with a recording one. */
  overrides?: Array<{ provide: unknown; useValue: unknown }>;
}

/** The real AppModule with only its configuration (and `overrides`) replaced, configured as `main.ts` does. */
export async function bootApi(options: BootApiOptions): Promise<NestExpressApplication> {
  const config: ApiConfig = {
    port: 0,
    managementPort: 0,
    redis: options.redis,
    database: {
      url: options.schema ? TEST_DATABASE_URL : undefined,
      schema: options.schema?.name,
      poolSize: 5,
      singleSession: false,
      ...options.database,
    },
    seedDemoData: options.seedDemoData ?? false,
    // Generous: concurrent tests on a loaded machine must get 201 or 409, not 423, unless a test asks otherwise.
    bookingLockWaitMs: options.bookingLockWaitMs ?? 15_000,
    holdTtlMs: options.holdTtlMs ?? 300_000,
    paymentDelayMs: options.paymentDelayMs ?? 0,
    bookingEventsReplicas: 0,
    // Not applied in-process: AppModule carries no throttler (see app.factory.ts); the limited app runs as a process.
    rateLimit: { limit: 20, windowMs: 60_000 },
  };
  let builder = Test.createTestingModule({ imports: [AppModule] })
    .overrideProvider(API_CONFIG)
    .useValue(config);
  for (const override of options.overrides ?? []) {
    builder = builder.overrideProvider(override.provide).useValue(override.useValue);
  }
  const moduleRef = await builder.compile();
  return configureApp(moduleRef.createNestApplication<NestExpressApplication>({ logger: false })).init();
}

/** Deletes the app's Redis keys and closes it; safe to call when booting failed. */
export async function closeApi(app: INestApplication | undefined, keyPrefix: string): Promise<void> {
  if (!app) return;
  await deleteKeysWithPrefix(app.get<RedisClient>(getRedisConnectionToken()), keyPrefix).catch(() => undefined);
  await app.close();
}

const managementServers = new WeakMap<INestApplication, Server>();

/**
 * The app's management side (`/metrics`, `/docs`, health details), as `main.ts` serves it on `MANAGEMENT_PORT`;
 * not listening: hand it to supertest as the public side's `app.getHttpServer()` is.
 */
export function managementOf(app: INestApplication): Server {
  let server = managementServers.get(app);
  if (!server) {
    server = createManagementServer(app);
    managementServers.set(app, server);
  }
  return server;
}
