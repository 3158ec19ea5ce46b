import { Module } from '@nestjs/common';
import { RedisMetricsModule } from '@app/redis/metrics';

/** Serves `/metrics`: the Prometheus text exposition of the library's metrics (transport, connections). */
@Module({
  imports: [RedisMetricsModule.forRoot({ path: '/metrics' })],
})
export class MetricsModule {}
