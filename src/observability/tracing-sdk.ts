import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { TracingConfig } from '../monitoring-config.js';

export interface Tracing {
  /** Sends the spans still queued, then stops. */
  shutdown(): Promise<void>;
}

/**
 * The standalone server's tracer provider: spans batched and sent as OTLP/HTTP to `url` (a
 * collector such as the OpenTelemetry Collector, Jaeger or Tempo). Only started when the config
 * asks for it, so a server without `monitoring.tracing` loads no SDK code path at all.
 */
export function startTracing({ url, serviceName }: TracingConfig): Tracing {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }), { scheduledDelayMillis: 1000 })],
  });
  provider.register();
  return { shutdown: () => provider.shutdown() };
}
