import type { DynamicModule, INestApplicationContext, LoggerService, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { RedisModule, type RedisModuleOptions } from '@app/redis';

/**
 * Compiles a testing module from `imports` (usually `RedisModule.forRoot(...)` plus a fixture module) and runs its
 * lifecycle hooks (`init()`), as an application would. Close it with `app.close()` in `afterEach`/`afterAll`.
 */
export async function bootstrapTestingApp(
  imports: Array<DynamicModule | NonNullable<ModuleMetadata['imports']>[number]>,
  providers: NonNullable<ModuleMetadata['providers']> = [],
): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({ imports, providers }).setLogger(silentLogger).compile();
  return moduleRef.init();
}

/** Boots `RedisModule.forRoot(options)` alone, logging to `logger` (silent by default). */
export async function bootRedisModule(
  options: RedisModuleOptions,
  logger: LoggerService = silentLogger,
): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({ imports: [RedisModule.forRoot(options)] })
    .setLogger(logger)
    .compile();
  try {
    return await moduleRef.init();
  } catch (error) {
    // A startup that failed after connecting (an option checked against the server) must not leave those
    // connections reconnecting: they would keep Jest's process alive after the run.
    await moduleRef.close().catch(() => undefined);
    throw error;
  }
}

/** The error an app's startup fails with; fails the test when startup succeeds (the app is closed then). */
export async function startupError(start: () => Promise<INestApplicationContext>): Promise<Error> {
  try {
    await (await start()).close();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected startup to fail');
}

/** A logger that drops everything: tests assert on behaviour, and log capture is done explicitly where needed. */
export const silentLogger = {
  log: () => undefined,
  error: () => undefined,
  warn: () => undefined,
  debug: () => undefined,
  verbose: () => undefined,
  fatal: () => undefined,
};

/**
 * Collects what the Nest logger prints while `fn` runs (for asserting that no secret is ever logged).
 */
export class LogCapture {
  readonly lines: string[] = [];
  readonly logger = {
    log: (m: unknown) => this.push('log', m),
    error: (m: unknown, ...rest: unknown[]) => this.push('error', m, ...rest),
    warn: (m: unknown) => this.push('warn', m),
    debug: (m: unknown) => this.push('debug', m),
    verbose: (m: unknown) => this.push('verbose', m),
    fatal: (m: unknown) => this.push('fatal', m),
  };

  get text(): string {
    return this.lines.join('\n');
  }

  private push(level: string, ...parts: unknown[]): void {
    this.lines.push(
      `${level}: ${parts.map((p) => (p instanceof Error ? `${p.message}\n${p.stack}` : String(p))).join(' ')}`,
    );
  }
}
