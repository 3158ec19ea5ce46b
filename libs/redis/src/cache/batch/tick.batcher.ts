import type { RedisClient } from '../../connection/redis-connection.factory.js';
import { toError } from '../../utils/error-text.js';
import { groupBySlot, isCluster } from './redis-hash-slot.js';

/** What a waiting request is settled with (an ioredis `Command` is one). */
export interface Pending<TResult> {
  resolve(result: TResult): void;
  reject(error: Error): void;
}

/** A request ready to leave alone: the caller awaits `promise`; a batch that takes the request in settles it. */
export interface PreparedRequest<TResult> extends Pending<TResult> {
  readonly promise: Promise<TResult>;
}

/**
 * The lone-request fast path of a `TickBatchSender`: the first request of a turn is built as its own command at once
 * (not sent) and the caller awaits that command's promise. A turn that ends with it alone sends it as it is, so a lone
 * request costs no promise, closure or array of the batcher's own; when others join, the batch settles it instead
 * and it is never sent.
 */
export interface LoneRequestSender<TRequest, TResult> {
  prepare(request: TRequest): PreparedRequest<TResult>;
  send(prepared: PreparedRequest<TResult>): void;
}

/** How a `TickBatcher` sends: one request alone, or several of one hash slot in one command. */
export interface TickBatchSender<TRequest, TResult> {
  /** The Redis key deciding a request's hash slot. */
  keyOf(request: TRequest): string;
  one(request: TRequest): Promise<TResult>;
  /** Requests of one hash slot (any requests on a single node), in one command; results in order. */
  many(requests: TRequest[]): Promise<TResult[]>;
  /** Without it, the first request of a turn waits on a promise of the batcher's own, settled by `one`. */
  alone?: LoneRequestSender<TRequest, TResult>;
}

/**
 * Internal: the requests of one event-loop turn, sent together. Requests made while the current callback and its
 * promise continuations run are queued; `process.nextTick` then sends them as one command per hash slot (one in
 * all on a single node). A lone request is sent alone (`one`, or its prepared command: `alone`). Nothing waits for
 * a later turn (no `setImmediate`, no timer), so a lone request leaves in the turn it was made; past `maxPerCommand`
 * the queue leaves at once.
 *
 * The first request of a turn is kept in fields and the arrays are only built when a second one joins: one request
 * at a time (the common case at low concurrency) allocates nothing here but the `nextTick`.
 */
export class TickBatcher<TRequest, TResult> {
  /** Requests queued in this turn. */
  private size = 0;
  private firstRequest: TRequest | undefined;
  private firstPending: PreparedRequest<TResult> | undefined;
  /** From the second request of a turn on: every request of the turn, the first included, in order. */
  private requests: TRequest[] | undefined;
  private pending: Array<Pending<TResult>> | undefined;
  private readonly cluster: boolean;
  private readonly flush = (): void => this.send();

  constructor(
    private readonly client: RedisClient,
    private readonly sender: TickBatchSender<TRequest, TResult>,
    private readonly maxPerCommand: number,
  ) {
    this.cluster = isCluster(client);
  }

  /** Queues `request` with the others of this turn. */
  submit(request: TRequest): Promise<TResult> {
    if (this.size === 0) {
      process.nextTick(this.flush);
      this.size = 1;
      const prepared = this.sender.alone ? this.sender.alone.prepare(request) : deferred<TResult>();
      this.firstRequest = request;
      this.firstPending = prepared;
      if (this.maxPerCommand === 1) this.send();
      return prepared.promise;
    }
    if (this.size === 1) {
      this.requests = [this.firstRequest as TRequest];
      this.pending = [this.firstPending as PreparedRequest<TResult>];
    }
    this.size++;
    const pending = this.pending as Array<Pending<TResult>>;
    const result = new Promise<TResult>((resolve, reject) => {
      pending.push({ resolve, reject });
    });
    (this.requests as TRequest[]).push(request);
    if (this.size >= this.maxPerCommand) this.send();
    return result;
  }

  private send(): void {
    const size = this.size;
    if (size === 0) return;
    const first = this.firstPending as PreparedRequest<TResult>;
    const firstRequest = this.firstRequest as TRequest;
    const requests = this.requests as TRequest[];
    const pending = this.pending as Array<Pending<TResult>>;
    this.size = 0;
    this.firstRequest = undefined;
    this.firstPending = undefined;
    this.requests = undefined;
    this.pending = undefined;
    if (size === 1) return this.sendFirst(firstRequest, first);
    if (!this.cluster) return this.sendGroup(requests, pending);
    const keys = requests.map((request) => this.sender.keyOf(request));
    for (const group of groupBySlot(this.client, keys)) {
      // Groups come in first-seen order: the first request of the turn opens the first group.
      if (group.length === 1 && group[0] === 0) this.sendFirst(firstRequest, first);
      else
        this.sendGroup(
          group.map((index) => requests[index]!),
          group.map((index) => pending[index]!),
        );
    }
  }

  /** The first request of the turn, alone in its command. */
  private sendFirst(request: TRequest, prepared: PreparedRequest<TResult>): void {
    if (this.sender.alone) this.sender.alone.send(prepared);
    else this.sendOne(request, prepared);
  }

  /** A request alone in its command, sent with `one`. */
  private sendOne(request: TRequest, waiting: Pending<TResult>): void {
    this.sender.one(request).then(waiting.resolve, (error: unknown) => waiting.reject(toError(error)));
  }

  /** One command for requests of one hash slot. */
  private sendGroup(requests: TRequest[], pending: Array<Pending<TResult>>): void {
    if (requests.length === 1) return this.sendOne(requests[0]!, pending[0]!);
    this.sender.many(requests).then(
      (results) => {
        for (let at = 0; at < pending.length; at++) pending[at]!.resolve(results[at]!);
      },
      (error: unknown) => {
        const failure = toError(error);
        for (const waiting of pending) waiting.reject(failure);
      },
    );
  }
}

/** A promise and its settling functions (the first request of a turn when the sender has no `alone`). */
export function deferred<T>(): PreparedRequest<T> {
  let resolve!: (result: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((settle, fail) => {
    resolve = settle;
    reject = fail;
  });
  return { promise, resolve, reject };
}
