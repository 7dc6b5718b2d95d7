import type { Endpoint, RequestKind } from '../src/observability/metrics.js';

/**
 * Which proxy endpoint and which kind of request a URL path is, for metric labels and log lines.
 * Read from the path alone, at any mount point (the pattern is not anchored at the start), so the
 * standalone app and a mounted router label requests the same way. A new endpoint is one line in
 * ENDPOINT_PATTERNS; the kinds below its `/packages/go/` part are the same for all of them.
 */
const ENDPOINT_PATTERNS: readonly { endpoint: Endpoint; pattern: RegExp }[] = [
  { endpoint: 'project', pattern: /\/api\/v4\/projects\/[^/]+\/packages\/go(\/.*)$/ },
  { endpoint: 'group', pattern: /\/api\/v4\/groups\/[^/]+\/-\/packages\/go(\/.*)$/ },
];

/** Paths of the standalone server's own endpoints. */
const OWN_KINDS: ReadonlyMap<string, RequestKind> = new Map<string, RequestKind>([
  ['/-/health', 'health'],
  ['/-/liveness', 'health'],
  ['/-/readiness', 'health'],
  ['/metrics', 'metrics'],
]);

export interface RequestLabels {
  kind: RequestKind;
  endpoint: Endpoint;
}

/** Labels of a URL path (no query string). Never throws; anything unknown is `other`/`none`. */
export function classifyRequest(path: string): RequestLabels {
  for (const { endpoint, pattern } of ENDPOINT_PATTERNS) {
    const rest = pattern.exec(path)?.[1];
    if (rest !== undefined) return { kind: proxyKind(rest), endpoint };
  }
  return { kind: OWN_KINDS.get(path) ?? 'other', endpoint: 'none' };
}

function proxyKind(rest: string): RequestKind {
  if (/^\/-\/warm\/?$/.test(rest)) return 'warm';
  if (rest.endsWith('/@latest')) return 'latest';
  if (rest.endsWith('/@v/list')) return 'list';
  const at = rest.lastIndexOf('/@v/');
  if (at >= 0) {
    const file = rest.slice(at + 4);
    if (file.endsWith('.info')) return 'info';
    if (file.endsWith('.mod')) return 'mod';
    if (file.endsWith('.zip')) return 'zip';
  }
  return 'other';
}
