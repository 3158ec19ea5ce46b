import { Injectable } from '@nestjs/common';
import { WithLock } from '@localcloudlab/nest-redis';

/** A critical section: `maxInside` records how many calls were ever inside it at once. */
@Injectable()
export class LedgerService {
  inside = 0;
  maxInside = 0;
  completed = 0;

  @WithLock({ key: (account: string) => `ledger:${account}`, ttl: 5_000, waitTimeout: 10_000 })
  async post(account: string): Promise<string> {
    this.inside += 1;
    this.maxInside = Math.max(this.maxInside, this.inside);
    await new Promise((resolve) => setTimeout(resolve, 30));
    this.inside -= 1;
    this.completed += 1;
    return account;
  }
}
