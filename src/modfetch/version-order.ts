import { SemVer } from 'semver';
import * as goSemver from '../xmod/semver.js';

/**
 * Sorts canonical versions (`vX.Y.Z` or `vX.Y.Z-pre`, as `list` serves them) in semver order,
 * in place. The npm `semver` package parses each version once and compares parsed parts, where
 * the x/mod port re-parses both sides of every comparison. For canonical versions the two orders
 * are the same (test/unit/modfetch/version-order.test.ts checks it against the port and x/mod);
 * where npm's numbers run out of precision (a part above 2^53, which Go compares digit by digit)
 * or it refuses the syntax, the port decides.
 */
export function sortCanonicalVersions(list: string[]): string[] {
  const parsed = new Map<string, SemVer | null>();
  for (const v of list) parsed.set(v, parse(v));
  return list.sort((a, b) => {
    const pa = parsed.get(a);
    const pb = parsed.get(b);
    // npm can only call distinct versions equal (never invert them), so a tie goes to the port.
    return (pa && pb && pa.compare(pb)) || goSemver.byVersion(a, b);
  });
}

function parse(v: string): SemVer | null {
  if (!v.startsWith('v')) return null;
  try {
    return new SemVer(v.slice(1));
  } catch {
    return null;
  }
}
