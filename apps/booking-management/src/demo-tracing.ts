import { appendFileSync } from 'node:fs';
import type { DynamicModule } from '@nestjs/common';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  NodeTracerProvider,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-node';
import { RedisTracingModule } from '@app/redis/tracing';

/** The variable that turns the demo's tracing on: the file the process appends its finished spans to. */
export const TRACES_FILE_VARIABLE = 'TRACES_FILE';

/** One finished span as a line of the traces file (what `src/demo/trace-tree.ts` reads back). */
export interface SpanLine {
  service: string;
  pid: number;
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  /** Milliseconds since the epoch (wall clock: the processes' lines are compared). */
  startMs: number;
  durationMs: number;
  status: { code: number };
  attributes: Record<string, unknown>;
}

const hrToMs = ([seconds, nanos]: [number, number]) => seconds * 1_000 + nanos / 1e6;

/**
 * Appends each finished span as one JSON line to a file. One synchronous `appendFileSync` per span: a line is one
 * `write(2)` on a file opened with `O_APPEND`, so processes sharing a file do not interleave their lines, and a
 * span is on disk when `SimpleSpanProcessor` returns (nothing to flush at exit). Attributes are written as the
 * spans hold them: the demo's spans carry no payload, parameter value or secret.
 */
export class JsonLinesSpanExporter implements SpanExporter {
  constructor(
    private readonly file: string,
    private readonly service: string,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    try {
      const lines = spans.map((span) => {
        const line: SpanLine = {
          service: this.service,
          pid: process.pid,
          name: span.name,
          kind: span.kind,
          traceId: span.spanContext().traceId,
          spanId: span.spanContext().spanId,
          parentSpanId: span.parentSpanContext?.spanId,
          startMs: hrToMs(span.startTime),
          durationMs: hrToMs(span.duration),
          status: { code: span.status.code },
          attributes: { ...span.attributes },
        };
        return `${JSON.stringify(line)}\n`;
      });
      for (const line of lines) appendFileSync(this.file, line);
      done({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      done({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }

  async shutdown(): Promise<void> {}
}

/** Whether `TRACES_FILE` turned the demo's tracing on in this process. */
export function demoTracingEnabled(): boolean {
  return Boolean(process.env[TRACES_FILE_VARIABLE]?.trim());
}

/**
 * Opt-in tracing of a demo app: with `TRACES_FILE` set, registers the Node tracer provider globally (the
 * AsyncLocalStorage context manager and the W3C propagator) with spans appended to that file; without it, does
 * nothing (no SDK: the library's and the app's spans are the API's no-op spans). Call it before the app is created.
 *
 * @param service written on each line (`booking-api #1`…), to tell the processes apart
 * @returns the provider to shut down on exit, or `undefined` when tracing is off
 */
export function startDemoTracing(service: string): NodeTracerProvider | undefined {
  const file = process.env[TRACES_FILE_VARIABLE]?.trim();
  if (!file) return undefined;
  const provider = new NodeTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(new JsonLinesSpanExporter(file, service))],
  });
  provider.register();
  return provider;
}

/** `RedisTracingModule` when `TRACES_FILE` is set, nothing otherwise: the imports to add to an app's root module. */
export function demoTracingImports(): DynamicModule[] {
  return demoTracingEnabled() ? [RedisTracingModule.forRoot()] : [];
}
