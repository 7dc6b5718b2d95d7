import type { Request } from 'express';
import type { Logger } from '../src/logger.js';

// Requests whose token was not valid, for the failed-authentication limit to count. A valid token
// refused for scope or access is not counted: whoever holds it is not guessing tokens.
const refused = new WeakSet<Request>();

/** The reason both auth paths give for a token that matches no one (or cannot hold a token). */
export const INVALID_CREDENTIALS = 'credentials not valid';

/**
 * Records that `req` presented credentials that were refused and logs it at info level with the
 * reason, the client address and the project id when there is one; never the token (GitLab logs
 * failed authentication the same way, and operators ban on it).
 */
export function noteRefusedCredentials(req: Request, logger: Logger, reason: string, project?: number | string): void {
  if (reason === INVALID_CREDENTIALS) refused.add(req);
  // `ip` is absent on a bare IncomingMessage a host may hand over.
  const address = req.ip ?? req.socket?.remoteAddress;
  logger.info({ op: 'auth', reason, address, ...(project !== undefined && { project }) }, 'credentials refused');
}

/** Whether `req` presented a token that was not valid. */
export function credentialsWereRefused(req: Request): boolean {
  return refused.has(req);
}
