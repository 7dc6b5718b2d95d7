import type { AuthFailureReason, MetricsRegistry, ProxyMetrics } from '../src/observability/metrics.js';
import { createProxyMetrics } from '../src/observability/metrics.js';

/** The router's metrics (none without a registry) and the auth middleware's refusal counter. */
export function createObservability(registry: MetricsRegistry | undefined): {
  metrics: ProxyMetrics | null;
  onRefused: (reason: AuthFailureReason) => void;
} {
  if (!registry) return { metrics: null, onRefused: () => {} };
  const metrics = createProxyMetrics(registry);
  return { metrics, onRefused: (reason) => metrics.authFailure(reason) };
}
