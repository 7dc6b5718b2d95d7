import { Router } from 'express';
import { authorizedRequest, createAuth } from '../middleware/auth.js';
import { createErrorHandler } from '../middleware/error-handler.js';
import { type GoProxyRouterOptions, parseRouterOptions } from '../src/config.js';
import { NotFoundError } from '../src/errors.js';
import { silentLogger } from '../src/logger.js';
import { createProjectServices } from '../src/project-services.js';
import { type ProxyRequestKind, parseProxyPath } from '../src/proxy-path.js';
import type { Principal } from '../src/stores.js';
import { abortOnClose, cachePolicyFor, sendInfo, sendList, sendMod, sendZip } from './responses.js';

export type { GoProxyRouterOptions } from '../src/config.js';

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

// The raw (still percent-encoded) part after /packages/go/; :id never holds a slash.
const PROXY_PATH = /^\/api\/v4\/projects\/[^/]+\/packages\/go(\/.*)$/;

/**
 * GitLab's per-project Go proxy as an Express router. Mounted at the app root it serves
 * GET|HEAD `/api/v4/projects/:id/packages/go/<module>/@v/list`, `/@v/<version>.info|.mod|.zip`
 * and `/<module>/@latest`; `app.use('/prefix', router)` moves all of them under `/prefix`.
 * Options are checked now, and a bad one throws ConfigError naming it.
 */
export function createGoProxyRouter<P extends Principal>(options: GoProxyRouterOptions<P>): Router {
  const { modulePrefix, projects, authenticate, canRead, cache, services: shared } = parseRouterOptions(options);
  const logger = options.logger ?? silentLogger;
  const services = shared ?? createProjectServices({ modulePrefix, ...(cache && { cache }), logger });

  const router = Router({ mergeParams: true, caseSensitive: true });
  router.get(
    `${GO_PROXY_BASE}/*path`,
    createAuth({ projects, authenticate, canRead, logger }),
    async function serveGoProxy(req, res) {
      const { project } = authorizedRequest(res);
      const rawPath = PROXY_PATH.exec(req.path)?.[1];
      if (rawPath === undefined) throw new NotFoundError('not found');
      const request = parseProxyPath(rawPath);
      const signal = abortOnClose(res);
      const service = await services.get(project);
      const cacheControl = cachePolicyFor(request, project.visibility);
      switch (request.kind) {
        case 'list':
          sendList(res, await service.list(request.modulePath, signal), cacheControl);
          return;
        case 'latest':
          sendInfo(res, await service.latest(request.modulePath, signal), cacheControl);
          return;
        case 'info':
          sendInfo(res, await service.info(request.modulePath, request.version, signal), cacheControl);
          return;
        case 'mod':
          sendMod(res, await service.goMod(request.modulePath, request.version, signal), cacheControl);
          return;
        case 'zip':
          await sendZip(res, await service.zip(request.modulePath, request.version, signal), request.version, cacheControl, signal);
          return;
        default: {
          const unhandled: never = request;
          throw new Error(`unhandled proxy request ${JSON.stringify(unhandled)}`);
        }
      }
    },
  );
  router.use(createErrorHandler({ logger }));
  return router;
}
