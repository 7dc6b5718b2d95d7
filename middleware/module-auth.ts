import type { Request } from 'express';
import { ForbiddenError, UnauthenticatedError } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import { hasPathPrefix, moduleRootOf } from '../src/service/module-roots.js';
import type { Authenticate, CanRead, Principal, Project } from '../src/service/stores.js';
import type { AuthorizedRequest } from './auth.js';
import { readCredentials } from './auth.js';

/** Scopes that read packages: the project endpoint's rule (see auth.ts). */
const READ_SCOPES: ReadonlySet<string> = new Set(['api', 'read_api', 'read_package_registry']);

export interface ModuleAuthOptions<P extends Principal> {
  modulePrefix: string;
  authenticate: Authenticate<P>;
  canRead: CanRead<P>;
  logger: Logger;
}

/**
 * Of the candidate projects, the one whose module root is the longest prefix of `modulePath`
 * among those the caller may read: the group endpoint's and discovery's choice. The same rules
 * as the project endpoint: presented credentials that fail, or that read none of them, get the
 * 404 of an unknown module; no credentials and no public project for the path get 401, whether or
 * not a private one exists, so the answer tells nothing about private projects.
 */
export async function pickReadableProject<P extends Principal>(
  req: Request,
  candidates: readonly Project[],
  modulePath: string,
  { modulePrefix, authenticate, canRead, logger }: ModuleAuthOptions<P>,
): Promise<AuthorizedRequest> {
  const ordered = candidates
    .map((project) => ({ project, root: moduleRootOf(project, modulePrefix) }))
    .filter(({ root }) => hasPathPrefix(modulePath, root))
    .sort((a, b) => b.root.length - a.root.length)
    .map(({ project }) => project);

  const credentials = readCredentials(req);
  if (credentials === null) {
    const open = ordered.find((project) => project.visibility === 'public');
    if (open) return { project: open, principal: null };
    throw new UnauthenticatedError();
  }
  const principal = credentials === 'malformed' || credentials.token === '' ? null : await authenticate(credentials);
  if (!principal) throw refused(logger, 'credentials not valid');
  if (!(Array.isArray(principal.scopes) && principal.scopes.some((scope) => READ_SCOPES.has(scope)))) {
    throw refused(logger, 'token lacks a read scope');
  }
  for (const project of ordered) {
    const visible = project.visibility === 'public' || project.visibility === 'internal';
    if (visible || (await canRead(principal, project))) return { project, principal };
  }
  throw refused(logger, 'no readable project for the module');
}

function refused(logger: Logger, reason: string): ForbiddenError {
  logger.debug({ op: 'auth', reason }, 'credentials refused');
  // Rendered as the same "404 Not Found" as an unknown project.
  return new ForbiddenError(reason, { op: 'auth' });
}
