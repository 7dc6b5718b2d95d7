import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import type { ModuleZip, RevInfo } from '../src/service/module-service.js';
import type { ProxyRequest } from '../src/service/proxy-path.js';
import type { Visibility } from '../src/service/stores.js';
import { canonicalVersion } from '../src/xmod/module-path.js';

/**
 * Response policy for the GOPROXY routes: content types, validators, cache headers, HEAD and
 * streaming. Handlers pick a policy with `cachePolicyFor` and never write a max-age themselves.
 */
export const CachePolicy = {
  /** A canonical version's .info/.mod/.zip never changes once served (go.sum depends on it). */
  immutablePublic: 'public, max-age=604800, immutable',
  /** The same for projects behind a token: browsers may keep it, shared caches must not. */
  immutablePrivate: 'private, max-age=604800, immutable',
  /** list, @latest and branch or hash queries move with the repository: revalidate with the ETag. */
  mutablePublic: 'public, no-cache',
  mutablePrivate: 'private, no-cache',
} as const;

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json';
const ZIP = 'application/zip';

/** Go's module.CanonicalVersion(v) === v: semver, fully written out, no build suffix but +incompatible. */
export function isCanonicalVersion(version: string): boolean {
  return version !== '' && canonicalVersion(version) === version;
}

export function cachePolicyFor(request: ProxyRequest, visibility: Visibility): string {
  const isPublic = visibility === 'public';
  const immutable = 'version' in request && isCanonicalVersion(request.version);
  if (immutable) return isPublic ? CachePolicy.immutablePublic : CachePolicy.immutablePrivate;
  return isPublic ? CachePolicy.mutablePublic : CachePolicy.mutablePrivate;
}

/** A signal that fires when the client goes away before the response finished. */
export function abortOnClose(res: Response): AbortSignal {
  const controller = new AbortController();
  res.on('close', function abortUnfinished() {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** `@v/list`: one version per line. */
export function sendList(res: Response, versions: readonly string[], cacheControl: string): void {
  sendBody(res, TEXT, Buffer.from(versions.map((v) => `${v}\n`).join(''), 'utf8'), cacheControl);
}

/** `.info` and `@latest`. */
export function sendInfo(res: Response, info: RevInfo, cacheControl: string): void {
  sendBody(res, JSON_TYPE, Buffer.from(JSON.stringify(info), 'utf8'), cacheControl);
}

/** `.mod`: the go.mod bytes exactly as stored. */
export function sendMod(res: Response, goMod: Buffer, cacheControl: string): void {
  sendBody(res, TEXT, goMod, cacheControl);
}

/** A small body held in memory, with a strong ETag computed from its bytes. */
function sendBody(res: Response, contentType: string, body: Buffer, cacheControl: string): void {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  res.set({ 'Cache-Control': cacheControl, ETag: etag, 'X-Content-Type-Options': 'nosniff' });
  if (isNotModified(res.req, etag)) {
    res.status(304).end();
    return;
  }
  // setHeader, not res.set: Express would append "; charset=utf-8" to application/json.
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', String(body.length));
  res.status(200).end(res.req.method === 'HEAD' ? undefined : body);
}

/**
 * `.zip`: streamed with backpressure. When the client leaves, `signal` aborts the work behind the
 * stream and the pipeline rejects; the error handler then sees headersSent and ends quietly.
 */
export async function sendZip(res: Response, zip: ModuleZip, version: string, cacheControl: string, signal: AbortSignal): Promise<void> {
  const etag = quoteEtag(zip.etag);
  res.set({ 'Cache-Control': cacheControl, ETag: etag, 'X-Content-Type-Options': 'nosniff' });
  if (isNotModified(res.req, etag)) {
    res.status(304).end();
    return;
  }
  res.setHeader('Content-Type', ZIP);
  // Quoted like GitLab's header; canonical versions hold only safe characters, anything else is replaced.
  res.setHeader('Content-Disposition', `attachment; filename="${version.replace(/[^\w.+~-]/g, '_')}.zip"`);
  if (zip.size !== null) res.set('Content-Length', String(zip.size));
  res.status(200);
  if (res.req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = zip.open(signal);
  await firstBytes(stream);
  await pipeline(stream, res, { signal });
}

/**
 * Waits until the stream has data (or ended) before anything is written, so that a zip that fails
 * at once (a file name collision, a missing object) still gets its status and one-line reason
 * instead of a cut connection: pipeline destroys the response on any error.
 */
function firstBytes(stream: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    function settle(err?: Error): void {
      stream.off('readable', onReady);
      stream.off('error', onError);
      stream.off('close', onClose);
      if (err) {
        stream.destroy();
        reject(err);
      } else {
        resolve();
      }
    }
    const onReady = (): void => settle();
    const onError = (err: Error): void => settle(err);
    // Destroyed without an error (an abort): nothing more will come.
    const onClose = (): void =>
      settle(Object.assign(new Error('zip stream closed before any data'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    stream.once('readable', onReady);
    stream.once('error', onError);
    stream.once('close', onClose);
  });
}

function quoteEtag(etag: string): string {
  return /^(W\/)?".*"$/.test(etag) ? etag : `"${etag.replace(/"/g, '')}"`;
}

/** If-None-Match uses the weak comparison (RFC 9110 §13.1.2): `W/` prefixes are ignored. */
function isNotModified(req: Request, etag: string): boolean {
  const header = req.get('if-none-match');
  if (!header) return false;
  if (header.trim() === '*') return true;
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === bare);
}
