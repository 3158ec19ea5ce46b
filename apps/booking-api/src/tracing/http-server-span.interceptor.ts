import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { context, defaultTextMapGetter, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { Request, Response } from 'express';
import { Observable } from 'rxjs';
import { DEMO_TRACER_NAME } from '../database/traced-database.js';

const propagator = new W3CTraceContextPropagator();

/**
 * One OpenTelemetry `SERVER` span per HTTP request, `POST /bookings` (the method and the route template, never an
 * id from the path): the parent of what the handler does (lock, database, cache, the event it emits). A request
 * that carries a W3C `traceparent` header continues that trace. Ends when the response is sent, with
 * `http.response.status_code`; 5xx is an error. Registered (globally) only when the demo's tracing is on.
 *
 * An interceptor rather than an Express middleware: it runs after the body was read, in the async context of the
 * handler, so the span stays active for everything the handler awaits.
 */
@Injectable()
export class HttpServerSpanInterceptor implements NestInterceptor {
  intercept(execution: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (execution.getType() !== 'http') return next.handle();
    const request = execution.switchToHttp().getRequest<Request>();
    const response = execution.switchToHttp().getResponse<Response>();
    const route = (request.route as { path?: string } | undefined)?.path ?? 'unmatched';
    const parent = propagator.extract(context.active(), request.headers, defaultTextMapGetter);
    const span = trace.getTracer(DEMO_TRACER_NAME).startSpan(
      `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': request.method, 'http.route': route, 'url.scheme': 'http' },
      },
      parent,
    );
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      span.setAttribute('http.response.status_code', response.statusCode);
      if (response.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    };
    response.once('finish', end);
    response.once('close', end);
    const active = trace.setSpan(parent, span);
    return new Observable((subscriber) => context.with(active, () => next.handle().subscribe(subscriber)));
  }
}
