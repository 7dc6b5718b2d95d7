import http from 'node:http';
import https from 'node:https';
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';

/**
 * isomorphic-git's HTTP plugin, on Node's own http/https with an idle timeout (an upstream that
 * stops sending is cut instead of hanging a fetch forever), redirects for GET, and a copy of the
 * ref advertisement: the refs the fetch asked for are the mirror's new refs, read from the same
 * answer, so a push landing between two requests cannot pair refs with objects never fetched.
 */

const MAX_REDIRECTS = 5;

export interface CapturingHttpClient extends HttpClient {
  /** The body of the last `info/refs?service=git-upload-pack` answer, or null. */
  advertisement(): Buffer | null;
}

async function collectBody(body: GitHttpRequest['body']): Promise<Buffer | undefined> {
  if (body === undefined) return undefined;
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export function createSmartHttpClient({ idleTimeoutMs }: { idleTimeoutMs: number }): CapturingHttpClient {
  let advertisement: Buffer | null = null;

  function send(
    url: string,
    method: string,
    headers: Record<string, string>,
    body: Buffer | undefined,
    hops: number,
  ): Promise<GitHttpResponse> {
    return new Promise((resolve, reject) => {
      const target = new URL(url);
      const transport = target.protocol === 'https:' ? https : http;
      const req = transport.request(
        target,
        { method, headers: { ...headers, ...(body && { 'content-length': String(body.length) }) } },
        (res) => {
          const status = res.statusCode ?? 0;
          const location = res.headers.location;
          if (method === 'GET' && status >= 300 && status < 400 && location && hops < MAX_REDIRECTS) {
            res.resume();
            const next = new URL(location, target);
            // Credentials go to the host they were meant for, never to another one a redirect names.
            const forwarded =
              next.host === target.host
                ? headers
                : Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
            send(next.href, method, forwarded, body, hops + 1).then(resolve, reject);
            return;
          }
          const flat: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
          const capture = method === 'GET' && status === 200 && target.pathname.endsWith('/info/refs');
          const chunks: Buffer[] = [];
          async function* iterate(): AsyncGenerator<Uint8Array> {
            for await (const chunk of res as AsyncIterable<Buffer>) {
              if (capture) chunks.push(chunk);
              yield chunk;
            }
            if (!res.complete) throw new Error('the upstream closed the connection before the answer was complete');
            if (capture) advertisement = Buffer.concat(chunks);
          }
          resolve({ url: target.href, method, headers: flat, body: iterate(), statusCode: status, statusMessage: res.statusMessage ?? '' });
        },
      );
      req.setTimeout(idleTimeoutMs, () => req.destroy(new Error(`the upstream sent nothing for ${idleTimeoutMs} ms`)));
      req.once('error', reject);
      req.end(body);
    });
  }

  return {
    advertisement: () => advertisement,
    async request({ url, method = 'GET', headers = {}, body }) {
      return send(url, method, headers, await collectBody(body), 0);
    },
  };
}

/** One advertised ref; `peeled` is the commit an annotated tag points at (the `^{}` line). */
export interface AdvertisedRef {
  name: string;
  oid: string;
  peeled?: string;
}

/** Parses a protocol v1 upload-pack ref advertisement (pkt-lines) into refs and HEAD's symref target. */
export function parseAdvertisement(body: Buffer): { refs: AdvertisedRef[]; head: string | null } {
  const refs = new Map<string, AdvertisedRef>();
  let head: string | null = null;
  let offset = 0;
  let first = true;
  while (offset + 4 <= body.length) {
    const length = Number.parseInt(body.subarray(offset, offset + 4).toString('latin1'), 16);
    if (Number.isNaN(length)) throw new Error('malformed ref advertisement');
    if (length === 0) {
      offset += 4;
      continue;
    }
    let line = body.subarray(offset + 4, offset + length).toString('utf8');
    offset += length;
    if (line.startsWith('# service=')) continue;
    if (line.endsWith('\n')) line = line.slice(0, -1);
    const nul = line.indexOf('\0');
    if (nul >= 0) {
      if (first) {
        for (const cap of line.slice(nul + 1).split(' ')) if (cap.startsWith('symref=HEAD:')) head = cap.slice(12);
      }
      line = line.slice(0, nul);
    }
    first = false;
    const space = line.indexOf(' ');
    const oid = line.slice(0, space);
    const name = line.slice(space + 1);
    if (!/^[0-9a-f]{40}$/.test(oid)) continue;
    if (name.endsWith('^{}')) {
      const tag = refs.get(name.slice(0, -3));
      if (tag) tag.peeled = oid;
      continue;
    }
    if (name.startsWith('refs/heads/') || name.startsWith('refs/tags/')) refs.set(name, { name, oid });
  }
  return { refs: [...refs.values()], head };
}
