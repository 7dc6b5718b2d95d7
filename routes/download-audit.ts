import type { Response } from 'express';
import { bytesWritten, loggerFor, requestIdOf } from '../middleware/request-log.js';
import { errorLogFields } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import type { ProxyMetrics } from '../src/observability/metrics.js';
import type { Principal, Project } from '../src/service/stores.js';

/** One module file served in full: GitLab counts these as package downloads. */
export interface DownloadEvent {
  event: 'download';
  /** The project's id as the project store gave it. */
  project: number | string;
  module: string;
  version: string;
  artifact: 'zip' | 'mod';
  /** The principal's name (`principalName`), or `anonymous` for a public project read without credentials. */
  principal: string;
  /** `req.ip`: the client's address, or the front end's when the app trusts it (Express's `trust proxy`). */
  client: string | undefined;
  /** Body bytes sent. */
  bytes: number;
  /** `hit`: served from the cache (a zip on disk, a go.mod in memory); `build`: made for this request. */
  cache: 'hit' | 'build';
  requestId: string | undefined;
  /** When the last byte was handed to the socket, as an ISO date-time. */
  time: string;
}

export type OnDownload = (event: DownloadEvent) => void | Promise<void>;

export interface DownloadAuditOptions<P extends Principal> {
  logger: Logger;
  metrics: ProxyMetrics | null;
  onDownload: OnDownload | undefined;
  principalName: (principal: P) => string;
}

/** The default principal name: a `username` or `name` string on the principal, else `authenticated`. */
export function defaultPrincipalName(principal: Principal): string {
  const record = principal as unknown as Record<string, unknown>;
  for (const key of ['username', 'name']) {
    const value = record[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return 'authenticated';
}

/**
 * Emits one `download` event once a `GET` of a `.zip` or `.mod` has sent its last byte with a 200
 * (not for HEAD, a 304, an error or a client that left): a log line at info, and the host's
 * `onDownload` hook. A hook that throws or rejects is logged and changes nothing for the client.
 */
export function auditDownload<P extends Principal>(
  res: Response,
  what: { project: Project; principal: P | null; module: string; version: string; artifact: 'zip' | 'mod'; cache: 'hit' | 'build' },
  { logger, metrics, onDownload, principalName }: DownloadAuditOptions<P>,
): void {
  if (res.req.method !== 'GET') return;
  res.once('finish', () => {
    if (res.statusCode !== 200) return;
    const event: DownloadEvent = {
      event: 'download',
      project: what.project.id,
      module: what.module,
      version: what.version,
      artifact: what.artifact,
      principal: what.principal ? principalName(what.principal) : 'anonymous',
      client: res.req.ip,
      bytes: bytesWritten(res),
      cache: what.cache,
      requestId: requestIdOf(res),
      time: new Date().toISOString(),
    };
    metrics?.download(what.artifact);
    const log = loggerFor(res, logger);
    log.info(event, 'download');
    if (!onDownload) return;
    try {
      Promise.resolve(onDownload(event)).catch((err: unknown) =>
        log.warn({ op: 'onDownload', ...errorLogFields(err) }, 'onDownload hook failed'),
      );
    } catch (err) {
      log.warn({ op: 'onDownload', ...errorLogFields(err) }, 'onDownload hook failed');
    }
  });
}
