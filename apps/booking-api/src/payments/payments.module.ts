import { Module } from '@nestjs/common';
import { ApiConfigModule } from '../config/api-config.module.js';
import { PaymentService } from './payment.service.js';

/** The simulated payment step, capped by a Redis semaphore (needs `RedisSemaphoreModule` at the root). */
@Module({ imports: [ApiConfigModule], providers: [PaymentService], exports: [PaymentService] })
export class PaymentsModule {}
