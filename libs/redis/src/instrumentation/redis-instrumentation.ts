import { Injectable, Logger } from '@nestjs/common';
import type {
  ConsumerLagSource,
  RedisInstrumentationEvent,
  RedisInstrumentationEvents,
} from './redis-instrumentation.events.js';
import type { RedisTransportTracer } from './redis-transport.tracer.js';

type Listener<E extends RedisInstrumentationEvent> = (payload: RedisInstrumentationEvents[E]) => void;

/**
 * Announcements rather than occurrences: kept (once per distinct payload) and replayed to listeners that subscribe
 * later, since a transport server may start listening before the metrics subscribe (`startAllMicroservices()`
 * before `init()`).
 */
const RETAINED: ReadonlySet<RedisInstrumentationEvent> = new Set(['transport.listening']);

/**
 * A typed, synchronous event hub between the capabilities (cache, locks, transport, connections) and whatever
 * observes them (the metrics entry point). Emitting with no listener costs one map lookup; a listener that throws
 * is logged once and never breaks the operation that emitted.
 */
@Injectable()
export class RedisInstrumentation {
  private readonly logger = new Logger('RedisInstrumentation');
  private readonly listeners = new Map<RedisInstrumentationEvent, Set<Listener<never>>>();
  /**
   * Listeners per event, kept beside the map for `observes()`, which hot paths call on every operation (each cache
   * lookup): with the event name a constant there, this is a property read rather than a map lookup.
   */
  private readonly listening: Partial<Record<RedisInstrumentationEvent, number>> = {};
  private readonly lagSources = new Set<ConsumerLagSource>();
  private readonly retained = new Map<string, { event: RedisInstrumentationEvent; payload: unknown }>();
  private warned = false;
  private tracer?: RedisTransportTracer;

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
    this.listening[event] = set.size;
    for (const retained of this.retained.values()) {
      if (retained.event === event) this.call(event, listener, retained.payload as RedisInstrumentationEvents[E]);
    }
    return () => {
      set.delete(listener as Listener<never>);
      this.listening[event] = set.size;
    };
  }

  /** Whether anyone listens to `event`: lets an emitter skip measuring what nobody reads (a cache lookup's time). */
  observes(event: RedisInstrumentationEvent): boolean {
    return (this.listening[event] ?? 0) > 0;
  }

  emit<E extends RedisInstrumentationEvent>(event: E, payload: RedisInstrumentationEvents[E]): void {
    if (RETAINED.has(event)) this.retained.set(`${event} ${JSON.stringify(payload)}`, { event, payload });
    const set = this.listeners.get(event);
    if (!set || set.size === 0) return;
    for (const listener of set) this.call(event, listener as Listener<E>, payload);
  }

  private call<E extends RedisInstrumentationEvent>(
    event: E,
    listener: Listener<E>,
    payload: RedisInstrumentationEvents[E],
  ): void {
    try {
      listener(payload);
    } catch (error) {
      if (!this.warned) {
        this.warned = true;
        this.logger.warn(`An instrumentation listener for "${event}" threw: ${(error as Error).message}`);
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

  /**
   * Installs the transport's trace hooks (the tracing entry point does, once per application).
   * @returns a function that removes them
   */
  useTransportTracer(tracer: RedisTransportTracer): () => void {
    this.tracer = tracer;
    return () => {
      if (this.tracer === tracer) this.tracer = undefined;
    };
  }

  /** The transport's trace hooks, if the tracing entry point installed them. */
  get transportTracer(): RedisTransportTracer | undefined {
    return this.tracer;
  }
}
