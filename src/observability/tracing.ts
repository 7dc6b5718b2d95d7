import { type Attributes, context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

export { SpanKind };

import { errorLogFields } from '../errors.js';

/**
 * Spans through the OpenTelemetry API only. Without a registered tracer provider (the default:
 * standalone without `monitoring.tracing`, or a host that runs no OpenTelemetry SDK) the API hands
 * out non-recording spans and `traced` costs a few object allocations per call; with one, every
 * span lands in the host's traces under the request that caused it.
 *
 * Attributes are fixed names with values we produced (an operation, a kind, an outcome), never
 * tokens, header values or repository paths: spans leave the process just as log lines do.
 */
const tracer = trace.getTracer('gitlab-go-proxy');

/** Runs `work` inside a span named `name`, the active span while it runs; errors end it with their kind. */
export function traced<T>(name: string, work: (span: Span) => Promise<T>, attributes?: Attributes): Promise<T> {
  return tracer.startActiveSpan(name, attributes ? { attributes } : {}, async (span) => {
    try {
      return await work(span);
    } catch (err) {
      markFailed(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** A span that outlives the call that starts it (a zip stream), ended by the caller. */
export function startSpan(name: string, attributes?: Attributes, kind?: SpanKind): Span {
  return tracer.startSpan(name, { ...(attributes && { attributes }), ...(kind !== undefined && { kind }) });
}

/** Runs `work` with `span` active, so spans started under it are its children. */
export function withSpan<T>(span: Span, work: () => T): T {
  return context.with(trace.setSpan(context.active(), span), work);
}

/** The request span's labels: the same fixed sets as the request metric, never the URL. */
export function endRequestSpan(
  span: Span,
  { kind, endpoint, status, aborted }: { kind: string; endpoint: string; status: number; aborted: boolean },
): void {
  span.setAttributes({ 'goproxy.kind': kind, 'goproxy.endpoint': endpoint, 'http.response.status_code': status });
  if (aborted) span.setAttribute('goproxy.aborted', true);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: String(status) });
  span.end();
}

/** The error's kind and class only: messages can carry module paths of private projects or object ids. */
export function markFailed(span: Span, err: unknown): void {
  if (!span.isRecording()) return;
  const { kind, code } = errorLogFields(err);
  span.setAttributes({ 'goproxy.error.kind': kind, 'goproxy.error.code': code });
  span.setStatus({ code: SpanStatusCode.ERROR, message: kind });
}
