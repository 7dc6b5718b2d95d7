import type { Express } from 'express';
import helmet from 'helmet';
import { createRequestLog } from '../middleware/request-log.js';
import type { Logger } from '../src/logger.js';
import type { MonitoringConfig } from '../src/monitoring-config.js';
import { createProxyMetrics, type MetricsRegistry } from '../src/observability/metrics.js';
import { createOperationsRouter, type Lifecycle } from './health.js';
import { classifyRequest } from './request-kind.js';

export interface StandaloneOperations {
  logger: Logger;
  /** Undefined when `monitoring.metrics` is false: nothing is measured and /metrics is a 404. */
  registry: MetricsRegistry | undefined;
  monitoring(): MonitoringConfig;
  lifecycle(): Lifecycle;
  repositories(): readonly { id: number; gitdir: string }[];
  /** Whether the server speaks HTTPS: only then is Strict-Transport-Security sent. */
  tls: boolean;
}

/**
 * What the standalone app adds in front of the proxy: security headers fit for an API (helmet:
 * nosniff, no framing, a CSP that allows nothing, no X-Powered-By), one log line and one metric
 * per request, and the health and metrics endpoints.
 */
export function installOperations(app: Express, options: StandaloneOperations): void {
  app.use(
    helmet({
      // Nothing here is a page: no script, style or frame of any origin.
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
      // HSTS over plain HTTP is ignored by browsers and only misleads; behind a TLS front end, the front end sets it.
      strictTransportSecurity: options.tls,
    }),
  );
  app.use(
    createRequestLog({
      logger: options.logger,
      metrics: options.registry ? createProxyMetrics(options.registry) : null,
      classify: classifyRequest,
    }),
  );
  app.use(
    createOperationsRouter({
      monitoring: options.monitoring,
      lifecycle: options.lifecycle,
      repositories: options.repositories,
      ...(options.registry && { registry: options.registry }),
    }),
  );
}
