import { Controller, Get, Inject, Res, type Type } from '@nestjs/common';
import { RedisMetricsService } from './redis-metrics.service.js';

/** The part of the reply this needs: Express' response and Fastify's reply both have `header(name, value)`. */
interface ReplyWithHeaders {
  header(name: string, value: string): unknown;
}

/**
 * A controller answering `GET <path>` with the metrics in the registry's exposition format. Made per call, because
 * Nest reads a controller's path from its class decorator.
 */
export function redisMetricsController(path: string): Type<unknown> {
  @Controller(path)
  class RedisMetricsController {
    constructor(@Inject(RedisMetricsService) private readonly metrics: RedisMetricsService) {}

    @Get()
    async scrape(@Res({ passthrough: true }) reply: ReplyWithHeaders): Promise<string> {
      reply.header('Content-Type', this.metrics.contentType);
      return this.metrics.metrics();
    }
  }
  return RedisMetricsController;
}
