import { timingSafeEqual } from 'node:crypto';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { type Request, type Response, Router } from 'express';
import { sendError } from '../middleware/error-handler.js';
import { tokenSha256 } from '../src/config-stores.js';
import { createAddressMatcher, type MonitoringConfig } from '../src/monitoring-config.js';
import type { MetricsRegistry } from '../src/observability/metrics.js';

/**
 * The standalone server's operations endpoints, as GitLab names them: `/-/liveness` (the process
 * answers), `/-/readiness` (503 while starting, while shutting down, or when the configured
 * repositories cannot be read), `/-/health` (kept as it was), and Prometheus' `/metrics`. All of
 * them only for the `monitoring.allow` addresses or the monitoring token; anyone else gets the
 * app's plain 404, so their existence tells nothing.
 */

/** The monitoring endpoints, each GET and HEAD. */
export const OPERATIONS_ROUTES = ['/-/health', '/-/liveness', '/-/readiness', '/metrics'] as const;

export type Lifecycle = 'starting' | 'serving' | 'shutting-down';

export interface OperationsOptions {
  /** Read per request, so a reload takes effect at once. */
  monitoring(): MonitoringConfig;
  lifecycle(): Lifecycle;
  /** The configured repositories' git directories, read per request (a reload changes them). */
  repositories(): readonly { id: number; gitdir: string }[];
  /** Without one (`monitoring.metrics: false`), /metrics is the app's 404. */
  registry?: MetricsRegistry;
}

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** How long a repositories check is reused: probes every second must not stat every repository each time. */
const REPOSITORY_CHECK_MS = 1000;

export function createOperationsRouter(options: OperationsOptions): Router {
  const router = Router({ caseSensitive: true });
  let matcher = { allow: [] as readonly string[], matches: createAddressMatcher([]) };
  let lastCheck: { at: number; check: Promise<Check> } | null = null;

  function allowed(req: Request): boolean {
    const monitoring = options.monitoring();
    if (matcher.allow !== monitoring.allow) matcher = { allow: monitoring.allow, matches: createAddressMatcher(monitoring.allow) };
    // The socket's address, not X-Forwarded-For: a header any client can write opens nothing.
    if (matcher.matches(req.socket.remoteAddress)) return true;
    const token = presentedToken(req);
    if (monitoring.tokenSha256 === undefined || token === undefined) return false;
    return timingSafeEqual(Buffer.from(tokenSha256(token), 'hex'), Buffer.from(monitoring.tokenSha256, 'hex'));
  }

  router.use([...OPERATIONS_ROUTES], function monitoringOnly(req, res, next) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      next();
      return;
    }
    res.setHeader('Cache-Control', 'no-store');
    if (allowed(req)) next();
    else sendError(res, 404, '404 Not Found');
  });

  router.get('/-/health', function health(_req, res) {
    sendText(res, 200, 'OK\n');
  });
  router.get('/-/liveness', function liveness(_req, res) {
    sendText(res, 200, 'OK\n');
  });
  router.get('/-/readiness', async function readiness(_req, res) {
    const lifecycle = options.lifecycle();
    const checks: Check[] = [{ name: 'lifecycle', ok: lifecycle === 'serving', detail: lifecycle }, await repositoriesCheck()];
    const ok = checks.every((c) => c.ok);
    sendText(
      res,
      ok ? 200 : 503,
      `${ok ? 'ready' : 'not ready'}\n${checks.map((c) => `${c.name}: ${c.ok ? 'ok' : 'failed'} (${c.detail})\n`).join('')}`,
    );
  });
  router.get('/metrics', async function metrics(_req, res, next) {
    const registry = options.registry;
    if (!registry) {
      next();
      return;
    }
    const body = await registry.metrics();
    res.status(200).setHeader('Content-Type', registry.contentType);
    res.end(res.req.method === 'HEAD' ? undefined : body);
  });

  function repositoriesCheck(): Promise<Check> {
    const now = Date.now();
    if (lastCheck && now - lastCheck.at < REPOSITORY_CHECK_MS) return lastCheck.check;
    const check = checkRepositories(options.repositories());
    lastCheck = { at: now, check };
    return check;
  }
  return router;
}

/**
 * Fails when none of the configured repositories can be read (the storage is missing or not
 * mounted); one broken repository is that project's 5xx, not a reason to take the whole server
 * out of a load balancer. Counts and project ids only: never a path.
 */
async function checkRepositories(repositories: readonly { id: number; gitdir: string }[]): Promise<Check> {
  if (repositories.length === 0) return { name: 'repositories', ok: true, detail: 'none configured' };
  const results = await Promise.all(
    repositories.map(async ({ id, gitdir }) => {
      try {
        await access(path.join(gitdir, 'HEAD'), constants.R_OK);
        await access(path.join(gitdir, 'objects'), constants.R_OK | constants.X_OK);
        return null;
      } catch {
        return id;
      }
    }),
  );
  const failed = results.filter((id): id is number => id !== null);
  const readable = repositories.length - failed.length;
  const shown = failed.slice(0, 10).join(', ') + (failed.length > 10 ? ', …' : '');
  const detail =
    failed.length === 0
      ? `${readable} of ${repositories.length} readable`
      : `${readable} of ${repositories.length} readable; cannot read project${failed.length === 1 ? '' : 's'} ${shown}`;
  return { name: 'repositories', ok: readable > 0, detail };
}

function presentedToken(req: Request): string | undefined {
  const bearer = /^bearer +(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
  if (bearer !== undefined) return bearer;
  const query = req.query['token'];
  return typeof query === 'string' && query !== '' ? query : undefined;
}

function sendText(res: Response, status: number, body: string): void {
  const bytes = Buffer.from(body, 'utf8');
  res.status(status).set({ 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(bytes.length) });
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
}
