import { Controller, Get, Res } from '@nestjs/common';
import { RedisMetricsService } from '@app/redis/metrics';
import type { Response } from 'express';

/** `GET /metrics`: the Prometheus text exposition of the library's metrics (transport, connections). */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: RedisMetricsService) {}

  @Get()
  async scrape(@Res() response: Response): Promise<void> {
    response.type(this.metrics.contentType).send(await this.metrics.metrics());
  }
}
