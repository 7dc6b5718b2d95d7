import basicAuth from 'basic-auth';
import type { Request, RequestHandler, Response } from 'express';
import { ForbiddenError, InternalError, NotFoundError, UnauthenticatedError } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import type { AuthFailureReason } from '../src/observability/metrics.js';
import { traced } from '../src/observability/tracing.js';
import type { Authenticate, CanRead, Credentials, Principal, Project, ProjectStore } from '../src/service/stores.js';
import { noteRefusedCredentials } from './refused-credentials.js';
import { loggerFor } from './request-log.js';

/**
 * Scopes that allow reading packages through the API (GitLab: `api`, or `read_api` for GET/HEAD;
 * a deploy token's `read_package_registry`, which no personal access token can hold).
 */
const READ_SCOPES: ReadonlySet<string> = new Set(['api', 'read_api', 'read_package_registry']);

export interface AuthOptions<P extends Principal> {
  projects: ProjectStore;
  authenticate: Authenticate<P>;
  canRead: CanRead<P>;
  logger: Logger;
  /** Called once per refused request with its reason (for metrics). */
  onRefused?: (reason: AuthFailureReason) => void;
}

/** What the auth middleware settled for a request. */
export interface AuthorizedRequest {
  project: Project;
  /** Null for an anonymous request to a public project. */
  principal: Principal | null;
}

// Kept beside the response rather than in res.locals, so the host app's Locals type stays untouched.
const authorized = new WeakMap<Response, AuthorizedRequest>();

/** The project and principal the auth middleware let through, if it did. */
export function findAuthorizedRequest(res: Response): AuthorizedRequest | undefined {
  return authorized.get(res);
}

/** The project the auth middleware let through; throws if it did not run (a wiring bug). */
export function authorizedRequest(res: Response): AuthorizedRequest {
  const found = authorized.get(res);
  if (!found) throw new InternalError('auth middleware did not run');
  return found;
}

/**
 * Resolves `:id` and checks credentials. Presented credentials that fail for any reason get the
 * same 404 as an unknown project (public projects included), so a wrong token tells nothing about
 * which projects exist; no credentials on a non-public or unknown project get 401, so go reports
 * an auth problem instead of falling through to the next GOPROXY entry.
 */
export function createAuth<P extends Principal>({
  projects,
  authenticate,
  canRead,
  logger: base,
  onRefused,
}: AuthOptions<P>): RequestHandler {
  // The span covers the decision only: what runs after `next()` is the request's, not auth's.
  return async function authorizeProject(req, res, next) {
    await traced('goproxy.auth', () => decide(req, res));
    next();
  };

  async function decide(req: Request, res: Response): Promise<void> {
    const logger = loggerFor(res, base);
    const denied = (log: Logger, reason: keyof typeof REFUSAL_LABELS): NotFoundError | ForbiddenError => {
      onRefused?.(REFUSAL_LABELS[reason]);
      noteRefusedCredentials(req, log, reason, project?.id);
      return refusal(reason);
    };
    const id = req.params['id'];
    const credentials = readCredentials(req);
    const project = typeof id === 'string' && id !== '' ? await projects.findProject(id) : null;

    if (credentials === null) {
      if (project && project.visibility === 'public') {
        authorized.set(res, { project, principal: null });
        return;
      }
      onRefused?.('missing');
      throw new UnauthenticatedError();
    }

    const principal = credentials === 'malformed' || credentials.token === '' ? null : await authenticate(credentials);
    if (!principal) throw denied(logger, 'credentials not valid');
    if (!hasReadScope(principal)) throw denied(logger, 'token lacks the api or read_api scope');
    if (!project) throw denied(logger, 'unknown project');
    // Anything but public or internal is treated as private, so a typo in a host's hook fails closed.
    const open = project.visibility === 'public' || project.visibility === 'internal';
    if (!open && !(await canRead(principal, project))) throw denied(logger, 'no access to the project');
    authorized.set(res, { project, principal });
  }
}

/**
 * Credentials from `PRIVATE-TOKEN` (or `?private_token=`), `JOB-TOKEN` (or `?job_token=`),
 * `Authorization: Bearer` or `Authorization: Basic` (password = token; the username is kept for
 * deploy tokens). Null when none were presented; 'malformed' when a header was sent but cannot
 * hold a token, which counts as failed credentials.
 */
export function readCredentials(req: Request): Credentials | 'malformed' | null {
  const privateToken = req.get('private-token') ?? queryToken(req, 'private_token');
  if (privateToken !== undefined) return { token: privateToken.trim(), source: 'private-token' };
  const jobToken = req.get('job-token') ?? queryToken(req, 'job_token');
  if (jobToken !== undefined) return { token: jobToken.trim(), source: 'job-token' };
  const authorization = req.get('authorization');
  if (authorization === undefined) return null;
  const bearer = /^bearer +(.*)$/i.exec(authorization);
  if (bearer) return { token: (bearer[1] ?? '').trim(), source: 'bearer' };
  if (/^basic /i.test(authorization)) {
    const parsed = basicAuth.parse(authorization);
    return parsed ? { token: parsed.pass, source: 'basic', username: parsed.name } : 'malformed';
  }
  return 'malformed';
}

/** A token query parameter: the first value when repeated, undefined when absent. */
function queryToken(req: Request, name: string): string | undefined {
  // `query` is absent on a bare IncomingMessage a host may hand over.
  const value: unknown = req.query?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : undefined;
}

function hasReadScope(principal: Principal): boolean {
  return Array.isArray(principal.scopes) && principal.scopes.some((scope) => READ_SCOPES.has(scope));
}

/** The log's reasons and their metric labels: a fixed set. */
const REFUSAL_LABELS = {
  'credentials not valid': 'invalid',
  'token lacks the api or read_api scope': 'scope',
  'unknown project': 'unknown-project',
  'no access to the project': 'no-access',
} as const satisfies Record<string, AuthFailureReason>;

function refusal(reason: string): NotFoundError | ForbiddenError {
  // The reason goes to the log only; every refusal renders as the same "404 Not Found".
  return reason === 'unknown project' ? new NotFoundError('404 Not Found', { op: 'auth' }) : new ForbiddenError(reason, { op: 'auth' });
}
