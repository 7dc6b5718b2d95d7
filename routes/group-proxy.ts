import { Router } from 'express';
import { createErrorHandler } from '../middleware/error-handler.js';
import { pickReadableProject } from '../middleware/module-auth.js';
import { ConfigError, NotFoundError } from '../src/errors.js';
import { type Logger, silentLogger } from '../src/logger.js';
import type { GroupStore } from '../src/service/group-stores.js';
import type { CacheOptions } from '../src/service/options.js';
import { ModulePrefix } from '../src/service/options.js';
import { createProjectServices, type ProjectServices } from '../src/service/project-services.js';
import { type ProxyRequestKind, parseProxyPath } from '../src/service/proxy-path.js';
import type { Authenticate, CanRead, Principal } from '../src/service/stores.js';
import { serveModuleRequest } from './serve-module.js';

/** Where the group router answers (GitLab's layout for group-level package endpoints). */
export const GO_GROUP_PROXY_BASE = '/api/v4/groups/:id/-/packages/go';

/** The group endpoints as OpenAPI path templates, checked against openapi.yaml like the project ones. */
export const GO_GROUP_PROXY_ROUTES: Readonly<Record<ProxyRequestKind, string>> = {
  list: '/api/v4/groups/{id}/-/packages/go/{module}/@v/list',
  info: '/api/v4/groups/{id}/-/packages/go/{module}/@v/{version}.info',
  mod: '/api/v4/groups/{id}/-/packages/go/{module}/@v/{version}.mod',
  zip: '/api/v4/groups/{id}/-/packages/go/{module}/@v/{version}.zip',
  latest: '/api/v4/groups/{id}/-/packages/go/{module}/@latest',
};

const PROXY_PATH = /^\/api\/v4\/groups\/[^/]+\/-\/packages\/go(\/.*)$/;

export interface GroupGoProxyRouterOptions<P extends Principal = Principal> {
  /** GitLab's host part of module paths (the default module root is `<modulePrefix>/<project path>`). */
  modulePrefix: string;
  /** Finds a group by numeric id or full path, and every project under it (subgroups included). */
  groups: GroupStore;
  authenticate: Authenticate<P>;
  canRead: CanRead<P>;
  logger?: Logger;
  /** Module cache options when the router makes its own services. Defaults to memory only. */
  cache?: CacheOptions;
  /** Shares module services with the project router (recommended: one cache for both). */
  services?: ProjectServices;
}

/**
 * One GOPROXY for a whole group: GET|HEAD `/api/v4/groups/:id/-/packages/go/<module>/@v/…` and
 * `/@latest`. A request goes to the project of the group (or a subgroup) whose module root is the
 * longest prefix of the module path, among those the caller may read, with the project
 * endpoint's auth rules. Everything else falls through to the host app.
 */
export function createGroupGoProxyRouter<P extends Principal>(options: GroupGoProxyRouterOptions<P>): Router {
  const prefix = ModulePrefix.safeParse(options.modulePrefix);
  if (!prefix.success) throw new ConfigError('createGroupGoProxyRouter options: modulePrefix: not a valid module prefix');
  if (typeof options.groups?.findGroup !== 'function' || typeof options.groups.groupProjects !== 'function') {
    throw new ConfigError('createGroupGoProxyRouter options: groups: expected an object with findGroup and groupProjects functions');
  }
  const { modulePrefix, groups, authenticate, canRead } = options;
  const logger = options.logger ?? silentLogger;
  const services = options.services ?? createProjectServices({ modulePrefix, ...(options.cache && { cache: options.cache }), logger });

  const router = Router({ mergeParams: true, caseSensitive: true });
  router.use(function onlyReads(req, _res, next) {
    if (req.method === 'GET' || req.method === 'HEAD') next();
    else next('router');
  });
  router.get(`${GO_GROUP_PROXY_BASE}/*path`, async function serveGroupGoProxy(req, res) {
    const rawPath = PROXY_PATH.exec(req.path)?.[1];
    if (rawPath === undefined) throw new NotFoundError('not found');
    const request = parseProxyPath(rawPath);
    const id = req.params['id'];
    const group = typeof id === 'string' && id !== '' ? await groups.findGroup(id) : null;
    const candidates = group ? await groups.groupProjects(group) : [];
    const { project } = await pickReadableProject(req, candidates, request.modulePath, { modulePrefix, authenticate, canRead, logger });
    await serveModuleRequest(services, project, request, res);
  });
  router.use(createErrorHandler({ logger }));
  return router;
}
