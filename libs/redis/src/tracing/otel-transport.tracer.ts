import type { Attributes, Span, Tracer } from '@opentelemetry/api';
import type {
  RedisTransportTracer,
  TransportSpanEnd,
  TransportSpanInfo,
} from '../instrumentation/redis-transport.tracer.js';
import { errorKind } from '../utils/error-text.js';
import { ATTR, REDIS_SYSTEM } from './tracing.constants.js';
import type { OtelApi } from './otel-api.loader.js';

/**
 * The transport's trace hooks on OpenTelemetry (messaging conventions): a `send` is a CLIENT span ended by the
 * reply, an `emit` a PRODUCER span ended once Redis stored or published it, a handler run a SERVER (request) or
 * CONSUMER (event) span, the child of the producer's span whose W3C trace context the packet's `metadata` carried.
 */
export class OtelTransportTracer implements RedisTransportTracer {
  constructor(
    private readonly api: OtelApi,
    private readonly tracer: Tracer,
  ) {}

  startProducer(info: TransportSpanInfo, carrier: Record<string, string>): TransportSpanEnd {
    const { api } = this;
    const kind = info.operation === 'send' ? api.SpanKind.CLIENT : api.SpanKind.PRODUCER;
    const span = this.tracer.startSpan(`${info.operation} ${info.pattern}`, { kind, attributes: attributesOf(info) });
    api.propagation.inject(api.trace.setSpan(api.context.active(), span), carrier);
    return (outcome) => {
      if (outcome?.messageId !== undefined) span.setAttribute(ATTR.messagingMessageId, outcome.messageId);
      if (outcome?.error !== undefined) this.fail(span, outcome.error);
      span.end();
    };
  }

  runHandler<T>(
    info: TransportSpanInfo,
    metadata: Readonly<Record<string, string>> | undefined,
    run: (fail: (error: unknown) => void) => Promise<T>,
  ): Promise<T> {
    const { api } = this;
    const active = api.context.active();
    const parent = metadata === undefined ? active : api.propagation.extract(active, metadata);
    const kind = info.request ? api.SpanKind.SERVER : api.SpanKind.CONSUMER;
    const span = this.tracer.startSpan(`process ${info.pattern}`, { kind, attributes: attributesOf(info) }, parent);
    let failed = false;
    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      this.fail(span, error);
    };
    return api.context.with(api.trace.setSpan(parent, span), () =>
      run(fail).then(
        (value) => {
          span.end();
          return value;
        },
        (error: unknown) => {
          fail(error);
          span.end();
          throw error;
        },
      ),
    );
  }

  /** Marks `span` failed with the error's code or class (never its message: it may quote the payload). */
  private fail(span: Span, error: unknown): void {
    const kind = errorKind(error);
    span.setAttribute(ATTR.errorType, kind);
    span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: kind });
  }
}

function attributesOf(info: TransportSpanInfo): Attributes {
  const attributes: Attributes = {
    [ATTR.messagingSystem]: REDIS_SYSTEM,
    [ATTR.messagingOperationType]: info.operation === 'process' ? 'process' : 'send',
    [ATTR.messagingOperationName]: info.operation,
    [ATTR.messagingDestination]: info.destination ?? info.pattern,
    [ATTR.transportPattern]: info.pattern,
    [ATTR.transportMode]: info.mode,
  };
  if (info.messageId !== undefined) attributes[ATTR.messagingMessageId] = info.messageId;
  if (info.group !== undefined) attributes[ATTR.messagingConsumerGroup] = info.group;
  if (info.attempt !== undefined) attributes[ATTR.transportAttempt] = info.attempt;
  return attributes;
}
