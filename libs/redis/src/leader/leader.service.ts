import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Observable } from 'rxjs';
import { RedisOptionsError } from '../errors/redis-options.error.js';
import { LockService } from '../lock/lock.service.js';
import { LeaderCampaign } from './leader-campaign.js';
import { LEADER_OPTIONS } from './leader.constants.js';
import type { ResolvedLeaderOptions } from './leader-options.interface.js';
import type { LeadershipChange } from './leadership-change.interface.js';
import { UNKNOWN_ELECTION } from './leader.messages.js';

/**
 * Leader election on a lease: in each configured election, one process at a time is the leader. The lease is a
 * lock (`leader:<name>`, through `LockService`) renewed by the lock's watchdog; candidates wait in its FIFO queue.
 *
 * - A crashed leader's lease expires after `ttl`, and the next candidate takes over then.
 * - A leader shutting down gracefully releases its lease at `beforeApplicationShutdown`, which hands it to the next
 *   candidate at once (no wait for the ttl).
 * - Every term has a fencing token greater than all earlier terms' (the lease lock's), and a `signal` that aborts
 *   with `LeadershipLostError` when the term ends (lease lost, shutdown, `stop()`).
 *
 * Methods take the election's name; the first configured election is the default.
 *
 * @example
 * ```ts
 * @Injectable()
 * export class Reconciler implements OnModuleInit {
 *   constructor(private readonly leader: LeaderService) {}
 *
 *   onModuleInit(): void {
 *     this.leader.changes().subscribe((change) => {
 *       if (change.leader) void this.reconcileWhileLeader(change.fencingToken, change.signal);
 *     });
 *   }
 * }
 * ```
 */
@Injectable()
export class LeaderService implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(LeaderService.name);
  private readonly campaigns = new Map<string, LeaderCampaign>();
  private readonly defaultName: string;

  /** @internal Nest injects the collaborators; construct through `RedisLeaderModule`, never with `new`. */
  constructor(
    @Inject(LEADER_OPTIONS) private readonly options: ResolvedLeaderOptions,
    locks: LockService,
  ) {
    for (const election of options.elections) {
      const settings = { ...election, retryDelay: options.retryDelay, retryJitter: options.retryJitter };
      this.campaigns.set(election.name, new LeaderCampaign(settings, locks, this.logger));
    }
    this.defaultName = options.elections[0].name;
  }

  onApplicationBootstrap(): void {
    if (this.options.autoStart) this.start();
  }

  /** Steps down before the connections close: the lease goes to the next candidate at once. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([...this.campaigns.values()].map((campaign) => campaign.stop('shutdown')));
  }

  /** Completes the change streams, after the last "lost" of the shutdown was emitted. */
  onApplicationShutdown(): void {
    this.campaigns.forEach((campaign) => campaign.complete());
  }

  /** Starts campaigning (done at bootstrap unless `autoStart: false`); `name` limits it to one election. */
  start(name?: string): void {
    if (name === undefined) this.campaigns.forEach((campaign) => campaign.start());
    else this.campaign(name).start();
  }

  /** Stops campaigning; a leader steps down and hands its lease over. `name` limits it to one election. */
  async stop(name?: string): Promise<void> {
    const campaigns = name === undefined ? [...this.campaigns.values()] : [this.campaign(name)];
    await Promise.all(campaigns.map((campaign) => campaign.stop('stopped')));
  }

  /** Whether this process leads the election now (as far as it knows: the lease's watchdog and expiry timer). */
  isLeader(name: string = this.defaultName): boolean {
    return this.campaign(name).isLeader;
  }

  /** The current term's fencing token while leader, `undefined` otherwise. */
  fencingToken(name: string = this.defaultName): number | undefined {
    return this.campaign(name).fencingToken;
  }

  /** The current term's signal while leader (aborts with `LeadershipLostError` when the term ends), else `undefined`. */
  signal(name: string = this.defaultName): AbortSignal | undefined {
    return this.campaign(name).signal;
  }

  /** Every change of leadership of this process in the election: gained (with the term's signal) and lost. */
  changes(name: string = this.defaultName): Observable<LeadershipChange> {
    return this.campaign(name).changes;
  }

  private campaign(name: string): LeaderCampaign {
    const campaign = this.campaigns.get(name);
    if (!campaign) throw new RedisOptionsError(UNKNOWN_ELECTION(name, [...this.campaigns.keys()]), 'election');
    return campaign;
  }
}
