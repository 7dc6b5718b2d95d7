import { type Request, Router } from 'express';
import { authorizedRequest, createAuth } from '../middleware/auth.js';
import { createErrorHandler } from '../middleware/error-handler.js';
import { createRequestLog, noteProject } from '../middleware/request-log.js';
import { ConflictError, errorLogFields, ForbiddenError, InternalError, NotFoundError, UnauthenticatedError } from '../src/errors.js';
import { createMirrorKeeper } from '../src/mirror/mirror-keeper.js';
import { isGoModFromMemory } from '../src/service/module-service.js';
import { createProjectServices } from '../src/service/project-services.js';
import { type ProxyRequestKind, parseProxyPath } from '../src/service/proxy-path.js';
import type { Principal } from '../src/service/stores.js';
import { auditDownload, defaultPrincipalName } from './download-audit.js';
import { type GoProxyRouterOptions, parseRouterOptions } from './go-proxy-options.js';
import { acquireFresh, startRefresh } from './mirror-freshness.js';
import { createObservability } from './observability.js';
import { classifyRequest } from './request-kind.js';
import { abortOnClose, cachePolicyFor, sendInfo, sendList, sendMod, sendZip } from './responses.js';

export type { GoProxyRouterOptions } from './go-proxy-options.js';

/** Where the router answers, relative to where it is mounted (GitLab's API layout). */
export const GO_PROXY_BASE = '/api/v4/projects/:id/packages/go';

/**
 * Every endpoint the router serves, as OpenAPI path templates (`{module}` holds slashes). Keyed by
 * request kind, so a new kind does not compile until it is listed here, and openapi.test.ts checks
 * that openapi.yaml documents each one.
 */
export const GO_PROXY_ROUTES: Readonly<Record<ProxyRequestKind, string>> = {
  list: '/api/v4/projects/{id}/packages/go/{module}/@v/list',
  info: '/api/v4/projects/{id}/packages/go/{module}/@v/{version}.info',
  mod: '/api/v4/projects/{id}/packages/go/{module}/@v/{version}.mod',
  zip: '/api/v4/projects/{id}/packages/go/{module}/@v/{version}.zip',
  latest: '/api/v4/projects/{id}/packages/go/{module}/@latest',
};

/** POST: builds every missing cache entry of one project (for a git server's post-receive hook). */
export const GO_PROXY_WARM_ROUTE = '/api/v4/projects/{id}/packages/go/-/warm';
/** `POST`: fetch a mirrored project's upstream now (routes/mirror-freshness.ts). */
export const GO_PROXY_REFRESH_ROUTE = '/api/v4/projects/{id}/packages/go/-/refresh';

// The raw (still percent-encoded) part after /packages/go/; :id never holds a slash.
const PROXY_PATH = /^\/api\/v4\/projects\/[^/]+\/packages\/go(\/.*)$/;

// The warm route as the router matches it (a trailing slash is allowed, as for every Express route).
const WARM_PATH = /^\/api\/v4\/projects\/[^/]+\/packages\/go\/-\/(?:warm|refresh)\/?$/;

/** GET and HEAD anywhere, POST on the warm route: what the router answers. Everything else falls through to the host app. */
function isServed(req: Request): boolean {
  return req.method === 'GET' || req.method === 'HEAD' || (req.method === 'POST' && WARM_PATH.test(req.path));
}

/** The 409 body of `POST …/-/warm` when there is no disk cache to fill. */
export const WARM_NEEDS_CACHE_DIR = 'warm needs a cache directory (cache.dir)';

/**
 * GitLab's per-project Go proxy as an Express router. Mounted at the app root it serves
 * GET|HEAD `/api/v4/projects/:id/packages/go/<module>/@v/list`, `/@v/<version>.info|.mod|.zip`
 * and `/<module>/@latest`, and POST `/api/v4/projects/:id/packages/go/-/warm`;
 * `app.use('/prefix', router)` moves all of them under `/prefix`. Every other request (OPTIONS,
 * PUT, POST to a module path, …) falls through to the host app untouched.
 * Options are checked now, and a bad one throws ConfigError naming it.
 */
export function createGoProxyRouter<P extends Principal>(options: GoProxyRouterOptions<P>): Router {
  const { modulePrefix, projects, authenticate, canRead, cache, logger, services: shared, ...checked } = parseRouterOptions(options);
  const { metrics, onRefused } = createObservability(checked.metrics);
  const registry = checked.metrics && { metrics: checked.metrics };
  const services = shared ?? createProjectServices({ modulePrefix, ...(cache && { cache }), logger, ...registry });
  metrics?.watch(services);
  const audit = { logger, metrics, onDownload: checked.onDownload, principalName: checked.principalName ?? defaultPrincipalName };
  // Warming fills the disk cache. With `cache`, it says whether there is one; with `services`
  // alone, the services bring their own cache and warming is allowed.
  const mirrors = checked.mirrors ?? createMirrorKeeper({ logger });
  const canWarm = cache ? cache.dir !== undefined : shared !== undefined;

  const router = Router({ mergeParams: true, caseSensitive: true });
  // Express routers answer OPTIONS themselves (200 with an Allow header) once a route matches the
  // path, and a host's own OPTIONS handler (CORS, say) would never run. Leave the router at once
  // for any method it does not serve, before any route is looked at: the request reaches the host.
  router.use(function onlyServedRequests(req, _res, next) {
    if (isServed(req)) next();
    else next('router');
  });
  router.use(createRequestLog({ logger, metrics, classify: classifyRequest }), function noSniff(_req, res, next) {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    next();
  });
  const readAuth = createAuth({ projects, authenticate, canRead, logger, onRefused });
  router.get(`${GO_PROXY_BASE}/*path`, readAuth, async function serveGoProxy(req, res) {
    const { project, principal } = authorizedRequest(res);
    noteProject(res, project.id);
    const rawPath = PROXY_PATH.exec(req.path)?.[1];
    if (rawPath === undefined) throw new NotFoundError('not found');
    const request = parseProxyPath(rawPath);
    // Held until the response is over: a zip streams after this handler returns, and its
    // repository must stay open until the last byte.
    const { service, release } = await acquireFresh(services, mirrors, project, request);
    res.once('close', release);
    const cacheControl = cachePolicyFor(request, project.visibility);
    switch (request.kind) {
      case 'list':
        sendList(res, await service.list(request.modulePath), cacheControl);
        return;
      case 'latest':
        sendInfo(res, await service.latest(request.modulePath), cacheControl);
        return;
      case 'info':
        sendInfo(res, await service.info(request.modulePath, request.version), cacheControl);
        return;
      case 'mod': {
        const goMod = await service.goMod(request.modulePath, request.version);
        const what = { project, principal: principal as P | null, module: request.modulePath, version: request.version };
        auditDownload(res, { ...what, artifact: 'mod', cache: isGoModFromMemory(goMod) ? 'hit' : 'build' }, audit);
        sendMod(res, goMod, cacheControl);
        return;
      }
      case 'zip': {
        const zip = await service.zip(request.modulePath, request.version);
        const what = { project, principal: principal as P | null, module: request.modulePath, version: request.version };
        auditDownload(res, { ...what, artifact: 'zip', cache: zip.size !== null ? 'hit' : 'build' }, audit);
        await sendZip(res, zip, request.version, cacheControl, abortOnClose(res));
        return;
      }
      default: {
        const unhandled: never = request;
        throw new InternalError(`unhandled proxy request ${JSON.stringify(unhandled)}`, { op: 'route' });
      }
    }
  });
  // `-` can never start a module path, so this route cannot shadow a module.
  const warming = new Map<string, Promise<unknown>>();
  router.post(`${GO_PROXY_BASE}/-/warm`, readAuth, function warmProject(_req, res) {
    const { project, principal } = authorizedRequest(res);
    if (!principal) throw new UnauthenticatedError();
    // Warming writes to the cache, so it takes GitLab's write scope, not read_api.
    if (!principal.scopes.includes('api')) throw new ForbiddenError('warm needs the api scope', { op: 'warm' });
    if (!canWarm) throw new ConflictError(WARM_NEEDS_CACHE_DIR, { op: 'warm' });
    const key = `${project.id}`;
    const running = warming.has(key);
    if (!running) {
      const started = Date.now();
      const job = services
        .warm(project)
        .then((p) =>
          logger.info({ op: 'warm', project: project.id, built: p.built, failed: p.failed, ms: Date.now() - started }, 'warm finished'),
        )
        .catch((err: unknown) => logger.error({ op: 'warm', project: project.id, ...errorLogFields(err) }, 'warm failed'))
        .finally(() => warming.delete(key));
      warming.set(key, job);
    }
    // The same media type as the .info answers: JSON is UTF-8 by definition (RFC 8259), no charset.
    res.status(202).setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ status: running ? 'running' : 'started' }));
  });
  router.post(`${GO_PROXY_BASE}/-/refresh`, readAuth, function refreshMirror(_req, res) {
    const { project, principal } = authorizedRequest(res);
    startRefresh(mirrors, project, principal);
    res.status(202).setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ status: 'started' }));
  });
  router.use(createErrorHandler({ logger }));
  return router;
}
