import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler, Response } from 'express';
import { type ErrorKind, errorLogFields, ProxyError } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import { loggerFor } from './request-log.js';

/**
 * The one place that turns errors into statuses. Bodies are one line of `text/plain; charset=utf-8`
 * because that is the only error body the go command shows its user.
 */
const STATUS: Record<ErrorKind, number> = {
  'not-found': 404,
  invalid: 400,
  // No credentials on a non-public project: go reports the 401 instead of trying the next proxy.
  unauthenticated: 401,
  // Credentials that fail answer exactly like an unknown project, so nothing about private projects leaks.
  forbidden: 404,
  conflict: 409,
  config: 500,
  internal: 500,
};

/** Kinds whose message is safe and useful to show; the others get a fixed body. */
const SHOWS_MESSAGE: ReadonlySet<ErrorKind> = new Set<ErrorKind>(['not-found', 'invalid', 'unauthenticated', 'conflict']);

const FIXED_BODY: Record<number, string> = {
  400: '400 Bad Request',
  401: '401 Unauthorized',
  404: '404 Not Found',
  500: '500 Internal Server Error',
};

export interface ErrorHandlerOptions {
  /** Gets one line per failed request: kind, code and operation, never messages or causes. */
  logger: Logger;
}

export function createErrorHandler({ logger: base }: ErrorHandlerOptions): ErrorRequestHandler {
  // Four parameters: that is how Express tells an error handler from a middleware.
  return function handleGoProxyError(err: unknown, req, res, _next) {
    const logger = loggerFor(res, base);
    if (res.headersSent || req.socket.destroyed) {
      // A stream broke mid-body or the client left: no status can be sent, so end the connection.
      logger.debug({ ...errorLogFields(err), stage: 'respond' }, 'response aborted');
      req.socket.destroy();
      return;
    }
    const { status, body } = describe(err);
    if (status >= 500) {
      // Kind, code and operation only: causes can hold paths, and requests can hold tokens.
      logger.error({ ...errorLogFields(err), status }, 'request failed');
    } else {
      logger.debug({ ...errorLogFields(err), status }, 'request refused');
    }
    sendError(res, status, body);
  };
}

/** Writes a one-line text/plain error; used by the handler and for the standalone server's 404. */
export function sendError(res: Response, status: number, body: string): void {
  const bytes = Buffer.from(`${body}\n`, 'utf8');
  // Only what a success answer may have set: the host app's own headers (CORS, request ids) stay.
  for (const name of ['ETag', 'Content-Disposition', 'Content-Encoding', 'Last-Modified']) res.removeHeader(name);
  res.status(status);
  // res.end rather than res.send: the host app's ETag and freshness settings must not touch errors.
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', String(bytes.length));
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (status === 401) res.setHeader('WWW-Authenticate', 'Basic realm="GitLab"');
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
}

function describe(err: unknown): { status: number; body: string } {
  if (err instanceof ProxyError) {
    const status = STATUS[err.kind];
    const body = SHOWS_MESSAGE.has(err.kind) ? oneLine(err.message) : (FIXED_BODY[status] ?? FIXED_BODY[500]!);
    return { status, body };
  }
  // Express's own 4xx errors, e.g. "Failed to decode param" (400) for a bad escape in :id.
  const status = httpStatus(err);
  if (status !== undefined && status >= 400 && status < 500) {
    // Only this file answers 401 (with its header); any other refusal looks like "not found".
    const mapped = status === 401 || status === 403 ? 404 : status;
    return { status: mapped, body: FIXED_BODY[mapped] ?? `${mapped} ${STATUS_CODES[mapped] ?? 'Client Error'}` };
  }
  return { status: 500, body: FIXED_BODY[500]! };
}

function oneLine(message: string): string {
  const line = message.split(/\r?\n/, 1)[0]?.trim() ?? '';
  return line === '' ? 'error' : line;
}

function httpStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const record = err as { status?: unknown; statusCode?: unknown };
  const status = record.status ?? record.statusCode;
  return typeof status === 'number' && Number.isInteger(status) ? status : undefined;
}
