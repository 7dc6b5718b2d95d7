import { Counter, collectDefaultMetrics, Gauge, Histogram, type Registry } from 'prom-client';
import type { CacheArtifact, ServiceTelemetry, ZipBuildReport } from './telemetry.js';

/**
 * The proxy's Prometheus metrics (prom-client), registered into one Registry: the standalone
 * server's own, or the host app's when mounted, never prom-client's global one. Every label value
 * comes from a fixed set below; nothing a client sends becomes a label.
 */

/** What a request asked for; `other` for anything the proxy does not serve (a 404 of the app). */
export const REQUEST_KINDS = ['list', 'info', 'mod', 'zip', 'latest', 'warm', 'health', 'metrics', 'other'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

/** Which proxy endpoint answered: a project's (`/projects/:id/packages/go`), a group's, or neither. */
export const ENDPOINTS = ['project', 'group', 'none'] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

/** Why credentials were refused; `missing` is the 401 of a non-public project asked without any. */
export const AUTH_FAILURE_REASONS = ['missing', 'invalid', 'scope', 'unknown-project', 'no-access'] as const;
export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];

export interface RequestReport {
  kind: RequestKind;
  endpoint: Endpoint;
  status: number;
  seconds: number;
  /** Body bytes written to the client. */
  bytes: number;
}

/** What `ProxyMetrics.watch` reads at each scrape: `ProjectServices.stats()`. */
export interface ServiceStatsSource {
  stats(): { openServices: number; openRepositories: number; leases: number; memoryBytes: number };
}

export interface ProxyMetrics extends ServiceTelemetry {
  readonly registry: Registry;
  request(report: RequestReport): void;
  authFailure(reason: AuthFailureReason): void;
  download(artifact: 'zip' | 'mod'): void;
  /** Reports the open repositories and memory of these services at every scrape (until `unwatch`). */
  watch(services: ServiceStatsSource): () => void;
}

/** Seconds: a warm `.info` takes well under a millisecond, a cold zip of a large module many seconds. */
const REQUEST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const BUILD_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export const METRIC_PREFIX = 'goproxy_';

const created = new WeakMap<Registry, ProxyMetrics>();

export interface ProxyMetricsOptions {
  /** Also register Node's default metrics (event loop lag, heap, GC, descriptors). Defaults to true. */
  defaultMetrics?: boolean;
}

/**
 * The proxy's metrics in `registry`. Asking twice for one registry gives the same object, so two
 * routers (or a router and the services it shares) mounted by one host report into one set.
 */
export function createProxyMetrics(registry: Registry, options: ProxyMetricsOptions = {}): ProxyMetrics {
  const known = created.get(registry);
  if (known) return known;
  const registers = [registry];
  if (options.defaultMetrics ?? true) {
    // A host that already collects them in this registry keeps its own.
    if (registry.getSingleMetric('process_cpu_user_seconds_total') === undefined) collectDefaultMetrics({ register: registry });
  }

  const requestDuration = new Histogram({
    name: `${METRIC_PREFIX}http_request_duration_seconds`,
    help: 'Time from the request to the last byte of the answer (or the client leaving), by request kind, endpoint and status class.',
    labelNames: ['kind', 'endpoint', 'status_class'] as const,
    buckets: REQUEST_BUCKETS,
    registers,
  });
  const responseBytes = new Counter({
    name: `${METRIC_PREFIX}http_response_bytes_total`,
    help: 'Body bytes written to clients, by request kind and endpoint.',
    labelNames: ['kind', 'endpoint'] as const,
    registers,
  });
  const cacheLookups = new Counter({
    name: `${METRIC_PREFIX}cache_lookups_total`,
    help: 'Cache lookups by artifact (zip: on disk, mod: go.mod in memory, pin: version pins) and result.',
    labelNames: ['artifact', 'result'] as const,
    registers,
  });
  const zipBuilds = new Counter({
    name: `${METRIC_PREFIX}zip_builds_total`,
    help: 'Zip builds by outcome: built, aborted (every client left), failed.',
    labelNames: ['outcome'] as const,
    registers,
  });
  const zipBuildDuration = new Histogram({
    name: `${METRIC_PREFIX}zip_build_duration_seconds`,
    help: 'Time a zip build ran, by outcome.',
    labelNames: ['outcome'] as const,
    buckets: BUILD_BUCKETS,
    registers,
  });
  const zipBuildBytes = new Counter({
    name: `${METRIC_PREFIX}zip_build_bytes_total`,
    help: 'Zip bytes written by builds (before any client reads them).',
    registers,
  });
  const authFailures = new Counter({
    name: `${METRIC_PREFIX}auth_failures_total`,
    help: 'Refused requests by reason: missing (401), invalid, scope, unknown-project, no-access (all 404).',
    labelNames: ['reason'] as const,
    registers,
  });
  const downloads = new Counter({
    name: `${METRIC_PREFIX}downloads_total`,
    help: 'Module files served in full (GET 200), by artifact: zip or mod.',
    labelNames: ['artifact'] as const,
    registers,
  });

  const watched = new Set<ServiceStatsSource>();
  const sum = (field: 'openServices' | 'openRepositories' | 'leases' | 'memoryBytes'): number => {
    let total = 0;
    for (const source of watched) total += source.stats()[field];
    return total;
  };
  const gauge = (name: string, help: string, field: Parameters<typeof sum>[0]): void => {
    new Gauge({
      name: `${METRIC_PREFIX}${name}`,
      help,
      registers,
      collect() {
        this.set(sum(field));
      },
    });
  };
  gauge('open_repositories', 'Git repositories open now.', 'openRepositories');
  gauge('open_services', 'Projects with an open module service now.', 'openServices');
  gauge('active_leases', 'Requests holding a repository open now.', 'leases');
  gauge(
    'memory_pool_bytes',
    'Bytes held in the shared memory pool: git objects, go.mod files, ancestry, zip plans, pack indexes.',
    'memoryBytes',
  );

  // Every label combination exists from the start, so a rate() over a counter that has not moved yet is 0, not absent.
  for (const artifact of ['zip', 'mod', 'pin'] as const)
    for (const result of ['hit', 'miss'] as const) cacheLookups.labels(artifact, result);
  for (const outcome of ['built', 'aborted', 'failed'] as const) zipBuilds.labels(outcome);
  for (const reason of AUTH_FAILURE_REASONS) authFailures.labels(reason);
  for (const artifact of ['zip', 'mod'] as const) downloads.labels(artifact);

  // The label children of the per-request metrics, made once per combination rather than on every
  // request (labels() validates and builds a label object each time). Reset-safe: a child looks its
  // values up in the metric on each call.
  const perRequest = new Map<string, { duration: { observe(v: number): void }; bytes: { inc(v: number): void } }>();
  const metrics: ProxyMetrics = {
    registry,
    request({ kind, endpoint, status, seconds, bytes }) {
      const key = `${kind} ${endpoint} ${status}`;
      let children = perRequest.get(key);
      if (!children) {
        children = { duration: requestDuration.labels(kind, endpoint, statusClass(status)), bytes: responseBytes.labels(kind, endpoint) };
        perRequest.set(key, children);
      }
      children.duration.observe(seconds);
      if (bytes > 0) children.bytes.inc(bytes);
    },
    cacheLookup(artifact: CacheArtifact, hit: boolean) {
      cacheLookups.labels(artifact, hit ? 'hit' : 'miss').inc();
    },
    zipBuild({ outcome, seconds, bytes }: ZipBuildReport) {
      zipBuilds.labels(outcome).inc();
      zipBuildDuration.labels(outcome).observe(seconds);
      if (bytes > 0) zipBuildBytes.inc(bytes);
    },
    authFailure(reason) {
      authFailures.labels(reason).inc();
    },
    download(artifact) {
      downloads.labels(artifact).inc();
    },
    watch(services) {
      watched.add(services);
      return () => watched.delete(services);
    },
  };
  created.set(registry, metrics);
  return metrics;
}

/** `2xx`, `4xx`, …: a fixed set whatever status a handler sets. */
export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other';
}

/** The part of prom-client's `Registry` the proxy uses; a host's own prom-client copy passes too. */
export type MetricsRegistry = Registry;
