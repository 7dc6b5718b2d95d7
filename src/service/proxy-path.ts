import { InvalidRequestError, NotFoundError, toProxyError } from '../errors.js';
import { unescapePath, unescapeVersion } from '../xmod/module-path.js';

/** One GOPROXY request, parsed from the path after `/packages/go/`. */
export type ProxyRequest =
  | { kind: 'list' | 'latest'; modulePath: string }
  | { kind: 'info' | 'mod' | 'zip'; modulePath: string; version: string };

export type ProxyRequestKind = ProxyRequest['kind'];

const versionFile = /^(.+)\.(info|mod|zip)$/;

/**
 * Parses `<escaped module>/@v/list`, `/@v/<version>.info|.mod|.zip` or `/@latest`.
 * Each segment is percent-decoded first (go sends `!` as `%21`; `+` stays `+`), then the `!`
 * case-escaping is undone. Bad escapes are InvalidRequestError; paths that are not part of the
 * protocol (including `/sumdb/...`, which we do not proxy) are NotFoundError, so go falls through.
 */
export function parseProxyPath(rawPath: string): ProxyRequest {
  const segments = rawPath.replace(/^\/+/, '').split('/').map(decodeSegment);
  if (segments[0] === 'sumdb') throw new NotFoundError('not found: this proxy does not serve a checksum database');
  const at = segments.findIndex((segment) => segment.startsWith('@'));
  if (at === -1) throw new NotFoundError('not found: not a module proxy path (no /@v/ or /@latest)');
  const escapedModule = segments.slice(0, at).join('/');
  if (escapedModule === '') throw new InvalidRequestError('bad request: module path not given');
  const rest = segments.slice(at);

  if (rest.length === 1 && rest[0] === '@latest') {
    return { kind: 'latest', modulePath: decodeCase(unescapePath, escapedModule, 'module path') };
  }
  if (rest.length === 2 && rest[0] === '@v') {
    const file = rest[1] ?? '';
    if (file === 'list') return { kind: 'list', modulePath: decodeCase(unescapePath, escapedModule, 'module path') };
    const match = versionFile.exec(file);
    if (match) {
      const modulePath = decodeCase(unescapePath, escapedModule, 'module path');
      const version = decodeCase(unescapeVersion, match[1] ?? '', 'version');
      return { kind: match[2] as 'info' | 'mod' | 'zip', modulePath, version };
    }
  }
  throw new NotFoundError('not found: not a module proxy path');
}

function decodeSegment(segment: string): string {
  let decoded: string;
  try {
    // decodeURIComponent leaves "+" alone, which is what Go's url.PathUnescape does too.
    decoded = decodeURIComponent(segment);
  } catch (err) {
    throw new InvalidRequestError('bad request: malformed percent-encoding in path', { cause: err });
  }
  // An encoded slash would let one segment pose as two; go never sends one.
  if (decoded.includes('/')) throw new InvalidRequestError('bad request: encoded "/" in path');
  return decoded;
}

function decodeCase(decode: (escaped: string) => string, escaped: string, what: string): string {
  let result: string;
  try {
    result = decode(escaped);
  } catch (err) {
    // Go's messages quote only the client's own input.
    throw toProxyError(err, { as: 'invalid', prefix: 'bad request: ', op: 'proxy-path' });
  }
  if (result === '') throw new InvalidRequestError(`bad request: invalid escaped ${what}`, { op: 'proxy-path' });
  return result;
}
