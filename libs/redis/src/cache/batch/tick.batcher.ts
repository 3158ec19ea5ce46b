import type { RedisClient } from '../../connection/redis-connection.factory.js';
import { groupBySlot, isCluster } from './redis-hash-slot.js';

/** What a waiting request is settled with. */
interface Pending<TResult> {
  resolve(result: TResult): void;
  reject(error: unknown): void;
}

/** How a `TickBatcher` sends: one request alone, or several of one hash slot in one command. */
export interface TickBatchSender<TRequest, TResult> {
  /** The Redis key deciding a request's hash slot. */
  keyOf(request: TRequest): string;
  one(request: TRequest): Promise<TResult>;
  /** Requests of one hash slot (any requests on a single node), in one command; results in order. */
  many(requests: TRequest[]): Promise<TResult[]>;
}

/**
 * Internal: the requests of one event-loop turn, sent together. Requests made while the current callback and its
 * promise continuations run are queued; `process.nextTick` then sends them as one command per hash slot (one in
 * all on a single node). A lone request is sent alone (`one`). Nothing waits for a later turn (no `setImmediate`,
 * no timer), so a lone request leaves in the turn it was made; past `maxPerCommand` the queue leaves at once.
 */
export class TickBatcher<TRequest, TResult> {
  private requests: TRequest[] = [];
  private pending: Array<Pending<TResult>> = [];
  private readonly flush = (): void => this.send();

  constructor(
    private readonly client: RedisClient,
    private readonly sender: TickBatchSender<TRequest, TResult>,
    private readonly maxPerCommand: number,
  ) {}

  /** Queues `request` with the others of this turn. */
  submit(request: TRequest): Promise<TResult> {
    if (this.requests.length === 0) process.nextTick(this.flush);
    this.requests.push(request);
    const result = new Promise<TResult>((resolve, reject) => {
      this.pending.push({ resolve, reject });
    });
    if (this.requests.length >= this.maxPerCommand) this.send();
    return result;
  }

  private send(): void {
    if (this.requests.length === 0) return;
    const requests = this.requests;
    const pending = this.pending;
    this.requests = [];
    this.pending = [];
    if (!isCluster(this.client)) return this.sendGroup(requests, pending);
    const keys = requests.map((request) => this.sender.keyOf(request));
    for (const group of groupBySlot(this.client, keys)) {
      this.sendGroup(
        group.map((index) => requests[index]!),
        group.map((index) => pending[index]!),
      );
    }
  }

  /** One command for requests of one hash slot. */
  private sendGroup(requests: TRequest[], pending: Array<Pending<TResult>>): void {
    if (requests.length === 1) {
      this.sender.one(requests[0]!).then(pending[0]!.resolve, pending[0]!.reject);
      return;
    }
    this.sender.many(requests).then(
      (results) => {
        for (let at = 0; at < pending.length; at++) pending[at]!.resolve(results[at]!);
      },
      (error: unknown) => {
        for (const waiting of pending) waiting.reject(error);
      },
    );
  }
}
