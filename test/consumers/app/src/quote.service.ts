import { Injectable } from '@nestjs/common';
import { Cacheable } from '@localcloudlab/nest-redis';

/** A slow lookup worth caching: `calls` counts how often the method body really ran. */
@Injectable()
export class QuoteService {
  calls = 0;

  @Cacheable({ name: 'quotes', key: (symbol: string) => `quote:${symbol}`, ttl: 60_000 })
  async quote(symbol: string): Promise<{ symbol: string; price: number }> {
    this.calls += 1;
    return { symbol, price: 42 };
  }
}
