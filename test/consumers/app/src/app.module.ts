import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { RedisModule } from '@localcloudlab/nest-redis';
import { RedisHealthIndicator } from '@localcloudlab/nest-redis/health';
import { RedisTransportClient } from '@localcloudlab/nest-redis/transport';
import { consumerRedisConfig, EVENTS_CLIENT } from './consumer.config.js';
import { EventsController } from './events.controller.js';
import { HealthController } from './health.controller.js';
import { LedgerService } from './ledger.service.js';
import { PriceBoard } from './price-board.service.js';
import { QuoteService } from './quote.service.js';

const redis = consumerRedisConfig();

/** What a user's app module looks like: RedisModule.forRoot, decorated services, a transport client, health. */
@Module({
  imports: [RedisModule.forRoot({ url: redis.url, keyPrefix: redis.keyPrefix }), TerminusModule],
  controllers: [HealthController, EventsController],
  providers: [
    QuoteService,
    LedgerService,
    PriceBoard,
    RedisHealthIndicator,
    {
      provide: EVENTS_CLIENT,
      useFactory: () => new RedisTransportClient({ url: redis.url, keyPrefix: redis.keyPrefix }),
    },
  ],
})
export class AppModule {}
