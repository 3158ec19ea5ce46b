import { existsSync, readFileSync } from 'node:fs';
import type { SpanLine } from '../../apps/booking-management/src/demo-tracing.js';

/** A span read back from a traces file, with the name of the process that wrote it. */
export interface TracedSpan extends SpanLine {
  process: string;
}

/** A trace, its spans ordered as the tree prints them. */
export interface BookingTrace {
  traceId: string;
  spans: TracedSpan[];
  processes: string[];
  root: TracedSpan;
  /** The worker's handler span (`process booking.created`). */
  handler: TracedSpan;
  /** The API's `emit booking.created` span the handler is the child of. */
  emit?: TracedSpan;
}

/**
 * Reads the JSON lines the apps wrote (`TRACES_FILE`, see `JsonLinesSpanExporter`).
 *
 * @param files process name → its traces file (a missing file is no spans)
 */
export function readSpanFiles(files: Record<string, string>): TracedSpan[] {
  const spans: TracedSpan[] = [];
  for (const [process, file] of Object.entries(files)) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line.trim()) spans.push({ ...(JSON.parse(line) as SpanLine), process });
    }
  }
  return spans;
}

/**
 * The trace of one confirmed booking: a `POST /bookings` root span answered 201 whose trace holds the
 * `process booking.created` span of another process (the worker). The earliest such booking.
 */
export function findBookingTrace(spans: TracedSpan[]): BookingTrace | undefined {
  const byTrace = new Map<string, TracedSpan[]>();
  for (const span of spans) byTrace.set(span.traceId, [...(byTrace.get(span.traceId) ?? []), span]);
  const roots = spans
    .filter(
      (span) =>
        span.name === 'POST /bookings' &&
        span.parentSpanId === undefined &&
        span.attributes['http.response.status_code'] === 201,
    )
    .sort((a, b) => a.startMs - b.startMs);
  for (const root of roots) {
    const trace = byTrace.get(root.traceId)!;
    const handler = trace.find((span) => span.name === 'process booking.created' && span.process !== root.process);
    if (!handler) continue;
    return {
      traceId: root.traceId,
      spans: ordered(trace),
      processes: [...new Set(trace.map((span) => span.process))],
      root,
      handler,
      emit: trace.find((span) => span.spanId === handler.parentSpanId),
    };
  }
  return undefined;
}

/** Depth-first, children by start time: the order of the printed tree. */
function ordered(trace: TracedSpan[]): TracedSpan[] {
  const ids = new Set(trace.map((span) => span.spanId));
  const children = new Map<string | undefined, TracedSpan[]>();
  for (const span of trace) {
    const parent = span.parentSpanId && ids.has(span.parentSpanId) ? span.parentSpanId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const out: TracedSpan[] = [];
  const walk = (parent: string | undefined) => {
    for (const span of (children.get(parent) ?? []).sort((a, b) => a.startMs - b.startMs)) {
      out.push(span);
      walk(span.spanId);
    }
  };
  walk(undefined);
  return out;
}

/** The attributes worth a glance in the tree (ids, outcomes, waits); the rest stays in the files. */
const SHOWN: Record<string, string> = {
  'http.response.status_code': 'status',
  'nest_redis.lock.outcome': 'outcome',
  'nest_redis.lock.wait_ms': 'wait_ms',
  'nest_redis.lock.fencing_token': 'token',
  'nest_redis.cache.outcome': 'outcome',
  'nest_redis.cache.tier': 'tier',
  'messaging.destination.name': 'destination',
  'messaging.message.id': 'id',
  'messaging.consumer.group.name': 'group',
  'nest_redis.transport.attempt': 'attempt',
  'booking_worker.applied': 'applied',
  'error.type': 'error',
};

/**
 * The trace as an indented tree, one line per span: name, duration, the process that recorded it (when it is not
 * its parent's) and a few attributes.
 */
export function formatTraceTree(trace: BookingTrace): string[] {
  const byId = new Map(trace.spans.map((span) => [span.spanId, span]));
  const depth = (span: TracedSpan): number => {
    const parent = span.parentSpanId ? byId.get(span.parentSpanId) : undefined;
    return parent ? depth(parent) + 1 : 0;
  };
  return trace.spans.map((span) => {
    const parent = span.parentSpanId ? byId.get(span.parentSpanId) : undefined;
    const where = parent?.process === span.process ? '' : `  [${span.process}]`;
    const attributes = Object.entries(SHOWN)
      .filter(([key]) => span.attributes[key] !== undefined)
      .map(([key, label]) => `${label}=${String(span.attributes[key])}`)
      .join(' ');
    const head = `${'  '.repeat(depth(span))}${span.name}`;
    return `${head.padEnd(44)} ${span.durationMs.toFixed(1).padStart(7)} ms${where}${attributes ? `  ${attributes}` : ''}`;
  });
}
