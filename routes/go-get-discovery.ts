import type { Request, RequestHandler } from 'express';
import { sendError } from '../middleware/error-handler.js';
import { pickReadableProject } from '../middleware/module-auth.js';
import { errorLogFields, isNotFound, NotFoundError, ProxyError } from '../src/errors.js';
import { type Logger, silentLogger } from '../src/logger.js';
import type { ModuleRootStore } from '../src/service/group-stores.js';
import { moduleRootOf } from '../src/service/module-roots.js';
import type { Authenticate, CanRead, Principal } from '../src/service/stores.js';
import { checkPath } from '../src/xmod/module-path.js';

export interface GoGetDiscoveryOptions<P extends Principal = Principal> {
  modulePrefix: string;
  /** The projects that may hold a module path. */
  roots: ModuleRootStore;
  authenticate: Authenticate<P>;
  canRead: CanRead<P>;
  /** Public base URL of this server ("https://go.example.com"). Defaults to the request's scheme and Host. */
  externalUrl?: string | undefined;
  /**
   * `mod` (default): the tag names this proxy's project endpoint, so `GOPRIVATE` users fetch
   * through it too. `git`: GitLab's own answer, `<externalUrl>/<project path>.git`.
   */
  goImport?: 'mod' | 'git';
  logger?: Logger;
}

/**
 * `GET /<module path>?go-get=1`: the `go-import` page the go command asks for when it fetches a
 * module without a proxy (GOPRIVATE, GOPROXY=direct). The module path is the request's host and
 * path; the page names the root of the project the caller may read whose root is the longest
 * prefix of it. A private project without valid credentials gets exactly the 404 of a path that
 * no project serves. Every other request passes through.
 */
export function createGoGetDiscovery<P extends Principal>(options: GoGetDiscoveryOptions<P>): RequestHandler {
  const { modulePrefix, roots, authenticate, canRead } = options;
  const logger = options.logger ?? silentLogger;
  const goImport = options.goImport ?? 'mod';
  const fixedBase = options.externalUrl?.replace(/\/+$/, '');
  return async function goGetDiscovery(req, res, next) {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || req.query['go-get'] !== '1') {
      next();
      return;
    }
    try {
      const modulePath = requestedModule(req);
      if (modulePath === null) throw new NotFoundError('not a module path');
      const candidates = await roots.projectsForModule(modulePath);
      const { project } = await pickReadableProject(req, candidates, modulePath, { modulePrefix, authenticate, canRead, logger });
      const base = fixedBase ?? `${req.protocol}://${req.get('host') ?? req.hostname}`;
      const root = moduleRootOf(project, modulePrefix);
      const target =
        goImport === 'mod'
          ? `${root} mod ${base}/api/v4/projects/${encodeURIComponent(String(project.id))}/packages/go`
          : `${root} git ${base}/${project.fullPath}.git`;
      const body = [
        '<!DOCTYPE html>',
        '<html><head>',
        `<meta name="go-import" content="${escapeHtml(target)}">`,
        '</head><body>',
        `go get ${escapeHtml(root)}`,
        '</body></html>',
        '',
      ].join('\n');
      const bytes = Buffer.from(body, 'utf8');
      res.status(200).set({
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Length': String(bytes.length),
        // The answer depends on the credentials: never shared between callers.
        'Cache-Control': project.visibility === 'public' ? 'public, max-age=300' : 'private, no-store',
        Vary: 'Authorization, Private-Token, Job-Token',
      });
      res.end(req.method === 'HEAD' ? undefined : bytes);
    } catch (err) {
      // Every refusal (no credentials, bad ones, no access, no project) is the same 404: go reads
      // the page, finds no tag and says "unrecognized import path".
      if (!(err instanceof ProxyError) || (err.kind !== 'unauthenticated' && err.kind !== 'forbidden' && !isNotFound(err))) {
        logger.error({ op: 'go-get', ...errorLogFields(err) }, 'go-get discovery failed');
        sendError(res, 500, '500 Internal Server Error');
        return;
      }
      sendError(res, 404, '404 Not Found');
    }
  };
}

/** `<host><path>` without a trailing slash, when it is a valid module path. */
function requestedModule(req: Request): string | null {
  let path: string;
  try {
    path = decodeURIComponent(req.path).replace(/\/+$/, '');
  } catch {
    return null;
  }
  const modulePath = `${req.hostname.toLowerCase()}${path}`;
  return checkPath(modulePath) === null ? modulePath : null;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
