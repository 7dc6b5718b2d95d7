import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '../src/logger.js';
import type { Endpoint, ProxyMetrics, RequestKind } from '../src/observability/metrics.js';
import { endRequestSpan, SpanKind, startSpan, withSpan } from '../src/observability/tracing.js';

/**
 * One log line and one metric observation per request, with a request id: the incoming
 * `X-Request-Id` when it is a plain token (so a front end's id follows the request), else a new
 * UUID, echoed in the response. A pino logger gets a child per request carrying the id, so every
 * line logged for that request (auth refusals, errors) has it; a logger without `child` is used as is.
 * Installed by the standalone app and by the router; the first one a request meets does the work.
 */

export interface RequestLogOptions {
  logger: Logger;
  metrics: ProxyMetrics | null;
  /** Labels of the request from its path (routes/request-kind.ts). */
  classify(path: string): { kind: RequestKind; endpoint: Endpoint };
}

interface RequestContext {
  id: string;
  log: Logger;
  bytes: number;
  /** Set by whoever resolved the project (the router), for the log line. */
  project?: number | string;
}

const contexts = new WeakMap<Response, RequestContext>();

/** An id we pass on unchanged: what front ends send (UUIDs, hex, base64url), never anything to escape. */
const ACCEPTED_ID = /^[A-Za-z0-9._:+/=-]{1,128}$/;

/** Query parameters that can carry credentials; their values never reach a log line. */
const TOKEN_PARAMS = /([?&](?:private_token|job_token|deploy_token|access_token|token|password)=)[^&#]*/gi;

/** The request's logger (a child with its id when the logger has `child`), or `fallback` outside a request. */
export function loggerFor(res: Response, fallback: Logger): Logger {
  return contexts.get(res)?.log ?? fallback;
}

/** The request id, once the middleware ran. */
export function requestIdOf(res: Response): string | undefined {
  return contexts.get(res)?.id;
}

/** Body bytes written so far. */
export function bytesWritten(res: Response): number {
  return contexts.get(res)?.bytes ?? 0;
}

/** Names the project on the request's log line. */
export function noteProject(res: Response, project: number | string): void {
  const context = contexts.get(res);
  if (context) context.project = project;
}

/** The URL as logged: credentials in the query string replaced. */
export function loggedUrl(url: string): string {
  return url.replace(TOKEN_PARAMS, '$1[REDACTED]');
}

export function createRequestLog({ logger, metrics, classify }: RequestLogOptions): RequestHandler {
  return function logRequest(req, res, next) {
    if (contexts.has(res)) {
      next();
      return;
    }
    const started = performance.now();
    const incoming = req.get('x-request-id');
    const id = incoming !== undefined && ACCEPTED_ID.test(incoming) ? incoming : randomUUID();
    const context: RequestContext = { id, log: logger.child ? logger.child({ reqId: id }) : logger, bytes: 0 };
    contexts.set(res, context);
    // One listener each from the request log, the auth-failure limit, the lease release, the
    // abort of an unfinished build, the pipe of a zip and Express itself: past Node's default warning
    // of 10 on a zip response, and bounded (a response ends), so not the leak the warning is about.
    res.setMaxListeners(32);
    res.setHeader('X-Request-Id', id);
    countBytes(res, context);
    const span = startSpan('goproxy.request', { 'http.request.method': req.method }, SpanKind.SERVER);
    res.once('close', () => {
      const seconds = (performance.now() - started) / 1000;
      const { kind, endpoint } = classify(pathOf(req));
      const status = res.statusCode;
      endRequestSpan(span, { kind, endpoint, status, aborted: !res.writableFinished });
      metrics?.request({ kind, endpoint, status, seconds, bytes: context.bytes });
      const fields: Record<string, unknown> = {
        ...(logger.child ? {} : { reqId: id }),
        method: req.method,
        url: loggedUrl(req.originalUrl),
        kind,
        endpoint,
        status,
        ms: Math.round(seconds * 10_000) / 10,
        bytes: context.bytes,
      };
      if (context.project !== undefined) fields['project'] = context.project;
      if (!res.writableFinished) fields['aborted'] = true;
      context.log.info(fields, 'request');
    });
    // Everything the request runs (auth, refs, plan, build) becomes a child of its span.
    withSpan(span, next);
  };
}

function pathOf(req: Request): string {
  const url = req.originalUrl;
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

type WriteArgs = [chunk: unknown, encodingOrCallback?: unknown, callback?: unknown];

/** Counts the body bytes handed to `write` and `end` (headers excluded), as `Content-Length` would. */
function countBytes(res: Response, context: RequestContext): void {
  const write = res.write;
  const end = res.end;
  const count = (chunk: unknown, encoding: unknown): void => {
    if (typeof chunk === 'string')
      context.bytes += Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
    else if (chunk instanceof Uint8Array) context.bytes += chunk.byteLength;
  };
  res.write = function countedWrite(this: Response, ...args: WriteArgs) {
    count(args[0], args[1]);
    return (write as (...a: WriteArgs) => boolean).apply(this, args);
  } as Response['write'];
  res.end = function countedEnd(this: Response, ...args: WriteArgs) {
    if (typeof args[0] !== 'function') count(args[0], args[1]);
    return (end as (...a: WriteArgs) => Response).apply(this, args);
  } as Response['end'];
}
