/**
 * Port of golang.org/x/mod/module/pseudo.go (x/mod v0.7.0): building, recognising and taking
 * apart pseudo-versions such as v1.2.4-0.20191109021931-daa7c04131f5.
 */
import { goQuote, InvalidVersionError } from './module-path.js';
import * as semver from './semver.js';

const PSEUDO_VERSION_RE = /^v[0-9]+\.(0\.0-|\d+\.\d+-([^+]*\.)?0\.)\d{14}-[A-Za-z0-9]+(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Go's t.UTC().Format("20060102150405"). */
export function formatPseudoTime(t: Date): string {
  const year = t.getUTCFullYear();
  // Go pads years to four digits and prints a sign for negative ones.
  const y = year < 0 ? '-' + pad(-year, 4) : pad(year, 4);
  return (
    y +
    pad(t.getUTCMonth() + 1, 2) +
    pad(t.getUTCDate(), 2) +
    pad(t.getUTCHours(), 2) +
    pad(t.getUTCMinutes(), 2) +
    pad(t.getUTCSeconds(), 2)
  );
}

/**
 * module.PseudoVersion: the pseudo-version for a commit at time `t` with revision `rev`
 * (usually the 12-hex commit prefix), after the tagged version `older` ("" if none), within
 * major version `major` ("" means v0).
 */
export function pseudoVersion(major: string, older: string, t: Date, rev: string): string {
  if (major === '') {
    major = 'v0';
  }
  const segment = `${formatPseudoTime(t)}-${rev}`;
  const build = semver.build(older);
  older = semver.canonical(older);
  if (older === '') {
    return `${major}.0.0-${segment}`; // form (1)
  }
  if (semver.prerelease(older) !== '') {
    return `${older}.0.${segment}${build}`; // forms (4), (5)
  }
  // Forms (2), (3): bump the patch number as a decimal string (v1.9.9 → v1.9.10).
  const i = older.lastIndexOf('.') + 1;
  return `${older.slice(0, i)}${incDecimal(older.slice(i))}-0.${segment}${build}`;
}

/** module.ZeroPseudoVersion: a placeholder with zero time and revision. */
export function zeroPseudoVersion(major: string): string {
  return pseudoVersion(major, '', goZeroTime(), '000000000000');
}

/** Go's time.Time{}: 0001-01-01T00:00:00Z. */
function goZeroTime(): Date {
  const d = new Date(0);
  d.setUTCFullYear(1, 0, 1);
  return d;
}

/** module.incDecimal: the decimal string plus one, without converting to a number. */
export function incDecimal(decimal: string): string {
  const digits = decimal.split('');
  let i = digits.length - 1;
  for (; i >= 0 && digits[i] === '9'; i--) {
    digits[i] = '0';
  }
  if (i >= 0) {
    digits[i] = String.fromCharCode(digits[i]!.charCodeAt(0) + 1);
  } else {
    // All nines: 99 → 100.
    digits[0] = '1';
    digits.push('0');
  }
  return digits.join('');
}

/** module.decDecimal: the decimal string minus one, or "" if it is all zeros. */
export function decDecimal(decimal: string): string {
  let digits = decimal.split('');
  let i = digits.length - 1;
  for (; i >= 0 && digits[i] === '0'; i--) {
    digits[i] = '9';
  }
  if (i < 0) {
    return '';
  }
  if (i === 0 && digits[i] === '1' && digits.length > 1) {
    digits = digits.slice(1);
  } else {
    digits[i] = String.fromCharCode(digits[i]!.charCodeAt(0) - 1);
  }
  return digits.join('');
}

/** module.IsPseudoVersion */
export function isPseudoVersion(v: string): boolean {
  return countDashes(v) >= 2 && semver.isValid(v) && PSEUDO_VERSION_RE.test(v);
}

function countDashes(v: string): number {
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    if (v[i] === '-') {
      n++;
    }
  }
  return n;
}

/** module.IsZeroPseudoVersion */
export function isZeroPseudoVersion(v: string): boolean {
  return v === zeroPseudoVersion(semver.major(v));
}

interface PseudoParts {
  base: string;
  timestamp: string;
  rev: string;
  build: string;
}

/** module.parsePseudoVersion; throws the InvalidVersionError ("syntax error") Go returns. */
function parsePseudoVersion(v: string): PseudoParts {
  if (!isPseudoVersion(v)) {
    throw new InvalidVersionError(v, 'syntax error', true);
  }
  const build = semver.build(v);
  v = v.slice(0, v.length - build.length);
  const j = v.lastIndexOf('-');
  const rev = v.slice(j + 1);
  v = v.slice(0, j);
  const i = v.lastIndexOf('-');
  const dot = v.lastIndexOf('.');
  if (dot > i) {
    return { base: v.slice(0, dot), timestamp: v.slice(dot + 1), rev, build }; // "vX.Y.Z-pre.0" or "vX.Y.(Z+1)-0"
  }
  return { base: v.slice(0, i), timestamp: v.slice(i + 1), rev, build }; // "vX.0.0"
}

/**
 * module.PseudoVersionTime: the UTC time stamp inside `v`. Throws an InvalidVersionError if `v`
 * is not a pseudo-version or the stamp is not a real time (Go's time.Parse rules: month 1–12,
 * day within the month, hour < 24, minute and second < 60).
 */
export function pseudoVersionTime(v: string): Date {
  const { timestamp } = parsePseudoVersion(v);
  const t = parseTimestamp(timestamp);
  if (t === null) {
    throw new InvalidVersionError(v, `malformed time ${goQuote(timestamp)}`, true);
  }
  return t;
}

function daysIn(month: number, year: number): number {
  if (month === 2) {
    const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
    return leap ? 29 : 28;
  }
  return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

function parseTimestamp(ts: string): Date | null {
  if (!/^[0-9]{14}$/.test(ts)) {
    return null;
  }
  const year = Number(ts.slice(0, 4));
  const month = Number(ts.slice(4, 6));
  const day = Number(ts.slice(6, 8));
  const hour = Number(ts.slice(8, 10));
  const minute = Number(ts.slice(10, 12));
  const second = Number(ts.slice(12, 14));
  if (month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || second > 59) {
    return null;
  }
  const d = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not turn years 0–99 into 1900–1999.
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  return d;
}

/** module.PseudoVersionRev: the revision part. Throws if `v` is not a pseudo-version. */
export function pseudoVersionRev(v: string): string {
  return parsePseudoVersion(v).rev;
}

/**
 * module.PseudoVersionBase: the tagged version the pseudo-version builds on, "" for the
 * vX.0.0-… form. Throws an InvalidVersionError for non-pseudo-versions, for
 * vX.0.0-…+incompatible and for vX.Y.0-0.… (negative patch).
 */
export function pseudoVersionBase(v: string): string {
  const parts = parsePseudoVersion(v);
  let base = parts.base;
  const build = parts.build;
  const pre = semver.prerelease(base);
  if (pre === '') {
    // vX.0.0-yyyymmddhhmmss-abcdef123456 → ""
    if (build !== '') {
      // "No parent tag" and "+incompatible parent" contradict each other.
      throw new InvalidVersionError(v, `lacks base version, but has build metadata ${goQuote(build)}`, true);
    }
    return '';
  }
  if (pre === '-0') {
    // vX.Y.(Z+1)-0.yyyymmddhhmmss-abcdef123456 → vX.Y.Z
    base = base.slice(0, base.length - pre.length);
    const i = base.lastIndexOf('.');
    if (i < 0) {
      throw new Error(`base from parsePseudoVersion missing patch number: ${base}`);
    }
    const patch = decDecimal(base.slice(i + 1));
    if (patch === '') {
      throw new InvalidVersionError(v, `version before ${base} would have negative patch number`, true);
    }
    return base.slice(0, i + 1) + patch + build;
  }
  // vX.Y.Z-pre.0.yyyymmddhhmmss-abcdef123456 → vX.Y.Z-pre
  if (!base.endsWith('.0')) {
    throw new Error(`base from parsePseudoVersion missing ".0" before date: ${base}`);
  }
  return base.slice(0, -2) + build;
}
