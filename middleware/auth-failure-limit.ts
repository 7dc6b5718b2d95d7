import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, MemoryStore, type Options } from 'express-rate-limit';
import type { Logger } from '../src/logger.js';
import type { AuthFailureLimit } from '../src/server-limits-config.js';
import { readCredentials } from './auth.js';
import { sendError } from './error-handler.js';
import { credentialsWereRefused } from './refused-credentials.js';

export interface AuthFailureLimiter {
  handler: RequestHandler;
  /** Stops the store's reset timer. */
  close(): void;
}

/**
 * Failed-authentication limiting per client address, as GitLab's fail2ban: an address that
 * presented `max` tokens that were not valid within the window gets 429 with `Retry-After` for
 * every request that carries credentials until the window ends, before the token is even looked
 * at, so the answer cannot confirm a guess. Only refused tokens are counted (express-rate-limit's
 * own middleware counts every request, so a valid user's parallel downloads could trip it);
 * requests without credentials (anonymous reads of public projects) are never refused, so a ban
 * does not take public modules away from others behind the same address.
 */
export function createAuthFailureLimiter({ max, windowSeconds }: AuthFailureLimit, logger: Logger): AuthFailureLimiter {
  const windowMs = windowSeconds * 1000;
  const store = new MemoryStore();
  // The store reads only windowMs from the middleware's options.
  store.init({ windowMs } as Options);
  const keyOf = (req: Request): string => ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? '', 56);

  const handler: RequestHandler = async function limitAuthFailures(req, res, next) {
    if (readCredentials(req) === null) {
      next();
      return;
    }
    const key = keyOf(req);
    const seen = await store.get(key);
    if (seen && seen.totalHits >= max && seen.resetTime) {
      const seconds = Math.max(1, Math.ceil((seen.resetTime.getTime() - Date.now()) / 1000));
      res.set('Retry-After', String(seconds));
      sendError(res, 429, '429 Too Many Requests: too many failed authentications from this address');
      return;
    }
    res.once('close', () => {
      if (!credentialsWereRefused(req)) return;
      store.increment(key).then(
        ({ totalHits }) => {
          if (totalHits === max)
            logger.warn({ op: 'auth', address: req.ip, windowSeconds }, 'address refused for too many failed authentications');
        },
        () => {},
      );
    });
    next();
  };
  return { handler, close: () => store.shutdown() };
}
