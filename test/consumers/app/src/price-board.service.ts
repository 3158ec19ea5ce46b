import { Injectable } from '@nestjs/common';
import { Cache } from '@nestjs/cache-manager';

/** Nest's caching docs' way in: the `Cache` class of @nestjs/cache-manager as the constructor's type. */
@Injectable()
export class PriceBoard {
  constructor(readonly cache: Cache) {}

  async publish(symbol: string, price: number): Promise<void> {
    await this.cache.set(`board:${symbol}`, { symbol, price }, 60_000);
  }

  async read(symbol: string): Promise<{ symbol: string; price: number } | undefined> {
    return (await this.cache.get<{ symbol: string; price: number }>(`board:${symbol}`)) ?? undefined;
  }
}
