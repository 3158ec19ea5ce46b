import { Injectable, Logger } from '@nestjs/common';
import type {
  ConsumerLagSource,
  RedisInstrumentationEvent,
  RedisInstrumentationEvents,
} from './redis-instrumentation.events.js';

type Listener<E extends RedisInstrumentationEvent> = (payload: RedisInstrumentationEvents[E]) => void;

/**
 * A typed, synchronous event hub between the capabilities (cache, locks, transport, connections) and whatever
 * observes them (the metrics entry point). Emitting with no listener costs one map lookup; a listener that throws
 * is logged once and never breaks the operation that emitted.
 */
@Injectable()
export class RedisInstrumentation {
  private readonly logger = new Logger('RedisInstrumentation');
  private readonly listeners = new Map<RedisInstrumentationEvent, Set<Listener<never>>>();
  private readonly lagSources = new Set<ConsumerLagSource>();
  private warned = false;

  /**
   * Subscribes to one event.
   * @returns a function that unsubscribes
   */
  on<E extends RedisInstrumentationEvent>(event: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  emit<E extends RedisInstrumentationEvent>(event: E, payload: RedisInstrumentationEvents[E]): void {
    const set = this.listeners.get(event);
    if (!set || set.size === 0) return;
    for (const listener of set) {
      try {
        (listener as Listener<E>)(payload);
      } catch (error) {
        if (!this.warned) {
          this.warned = true;
          this.logger.warn(`An instrumentation listener for "${event}" threw: ${(error as Error).message}`);
        }
      }
    }
  }

  /**
   * Registers a source of consumer lag (a streams transport server does, when built with `fromApp`); observers read
   * it when they need it (the metrics entry point, at every scrape).
   * @returns a function that removes the source
   */
  addConsumerLagSource(source: ConsumerLagSource): () => void {
    this.lagSources.add(source);
    return () => this.lagSources.delete(source);
  }

  /** The consumer lag sources registered so far. */
  get consumerLagSources(): ReadonlySet<ConsumerLagSource> {
    return this.lagSources;
  }
}
