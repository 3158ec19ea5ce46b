import { type ArgumentsHost, Catch, type ExceptionFilter, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { DatabaseUnavailableError } from './database-unavailable.error.js';

/** Seconds a client is told to wait before retrying: a pool wait or a server restart is usually that short. */
const RETRY_AFTER_SECONDS = 1;

/**
 * Answers {@link DatabaseUnavailableError} with 503 and `Retry-After`, as the Redis-down paths do: a saturated pool
 * or a restarting server is a temporary condition of the service, not a bug (500). The driver's text is logged,
 * never sent.
 */
@Catch(DatabaseUnavailableError)
export class DatabaseUnavailableFilter implements ExceptionFilter<DatabaseUnavailableError> {
  private readonly logger = new Logger('Database');

  catch(error: DatabaseUnavailableError, host: ArgumentsHost): void {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    this.logger.warn(`${error.message} Answered 503${cause}`);
    const response = host.switchToHttp().getResponse<Response>();
    response.status(HttpStatus.SERVICE_UNAVAILABLE).setHeader('Retry-After', String(RETRY_AFTER_SECONDS)).json({
      statusCode: HttpStatus.SERVICE_UNAVAILABLE,
      error: 'Service Unavailable',
      code: 'DATABASE_UNAVAILABLE',
      message: 'The database is unavailable right now; retry shortly.',
    });
  }
}
