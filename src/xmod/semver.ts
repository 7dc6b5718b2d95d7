/**
 * Port of golang.org/x/mod/semver (x/mod v0.7.0): Go's dialect of semantic versions, with the
 * mandatory leading "v" and the `vMAJOR` / `vMAJOR.MINOR` shorthands. The npm `semver` package
 * is deliberately not used: it accepts different syntax (no "v", loose forms) and would make
 * `list`, `.info` and pseudo-version answers drift from the go command's.
 */
import { compareUtf8 } from './unicode-fold.js';

interface Parsed {
  major: string;
  minor: string;
  patch: string;
  short: string;
  prerelease: string;
  build: string;
}

/** semver.IsValid */
export function isValid(v: string): boolean {
  return parse(v) !== null;
}

/** semver.Canonical: fills in missing .MINOR/.PATCH and drops build metadata; "" if invalid. */
export function canonical(v: string): string {
  const p = parse(v);
  if (p === null) {
    return '';
  }
  if (p.build !== '') {
    return v.slice(0, v.length - p.build.length);
  }
  if (p.short !== '') {
    return v + p.short;
  }
  return v;
}

/** semver.Major: "v2" for "v2.1.0"; "" if invalid. */
export function major(v: string): string {
  const p = parse(v);
  if (p === null) {
    return '';
  }
  return v.slice(0, 1 + p.major.length);
}

/** semver.MajorMinor: "v2.1" for "v2.1.0"; "" if invalid. */
export function majorMinor(v: string): string {
  const p = parse(v);
  if (p === null) {
    return '';
  }
  const i = 1 + p.major.length;
  const j = i + 1 + p.minor.length;
  if (j <= v.length && v[i] === '.' && v.slice(i + 1, j) === p.minor) {
    return v.slice(0, j);
  }
  return v.slice(0, i) + '.' + p.minor;
}

/** semver.Prerelease: "-pre" for "v2.1.0-pre+meta"; "" if none or invalid. */
export function prerelease(v: string): string {
  return parse(v)?.prerelease ?? '';
}

/** semver.Build: "+meta" for "v2.1.0+meta"; "" if none or invalid. */
export function build(v: string): string {
  return parse(v)?.build ?? '';
}

/**
 * semver.Compare: -1, 0 or +1. Invalid versions compare equal to each other and below every
 * valid one; build metadata is ignored.
 */
export function compare(v: string, w: string): -1 | 0 | 1 {
  const pv = parse(v);
  const pw = parse(w);
  if (pv === null && pw === null) {
    return 0;
  }
  if (pv === null) {
    return -1;
  }
  if (pw === null) {
    return 1;
  }
  return (
    compareInt(pv.major, pw.major) ||
    compareInt(pv.minor, pw.minor) ||
    compareInt(pv.patch, pw.patch) ||
    comparePrerelease(pv.prerelease, pw.prerelease)
  );
}

/** semver.Max (deprecated in Go, kept for completeness): the greater of the canonical forms. */
export function max(v: string, w: string): string {
  const cv = canonical(v);
  const cw = canonical(w);
  return compare(cv, cw) > 0 ? cv : cw;
}

/** semver.ByVersion.Less as a comparator: semver order, ties broken by Go (UTF-8 byte) string order. */
export function byVersion(a: string, b: string): number {
  return compare(a, b) || compareUtf8(a, b);
}

/** semver.Sort: sorts `list` in place (and returns it). */
export function sort(list: string[]): string[] {
  return list.sort(byVersion);
}

function parse(v: string): Parsed | null {
  if (v === '' || v[0] !== 'v') {
    return null;
  }
  const p: Parsed = { major: '', minor: '', patch: '', short: '', prerelease: '', build: '' };
  let rest = v.slice(1);
  let r = parseDecimal(rest);
  if (r === null) {
    return null;
  }
  [p.major, rest] = r;
  if (rest === '') {
    p.minor = '0';
    p.patch = '0';
    p.short = '.0.0';
    return p;
  }
  if (rest[0] !== '.') {
    return null;
  }
  r = parseDecimal(rest.slice(1));
  if (r === null) {
    return null;
  }
  [p.minor, rest] = r;
  if (rest === '') {
    p.patch = '0';
    p.short = '.0';
    return p;
  }
  if (rest[0] !== '.') {
    return null;
  }
  r = parseDecimal(rest.slice(1));
  if (r === null) {
    return null;
  }
  [p.patch, rest] = r;
  if (rest.length > 0 && rest[0] === '-') {
    const pre = parsePrerelease(rest);
    if (pre === null) {
      return null;
    }
    [p.prerelease, rest] = pre;
  }
  if (rest.length > 0 && rest[0] === '+') {
    const b = parseBuild(rest);
    if (b === null) {
      return null;
    }
    [p.build, rest] = b;
  }
  if (rest !== '') {
    return null;
  }
  return p;
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

function parseDecimal(v: string): [string, string] | null {
  if (!isDigit(v[0])) {
    return null;
  }
  let i = 1;
  while (i < v.length && isDigit(v[i])) {
    i++;
  }
  if (v[0] === '0' && i !== 1) {
    return null;
  }
  return [v.slice(0, i), v.slice(i)];
}

function parsePrerelease(v: string): [string, string] | null {
  // Identifiers: non-empty [0-9A-Za-z-], numeric ones without leading zeros.
  if (v === '' || v[0] !== '-') {
    return null;
  }
  let i = 1;
  let start = 1;
  while (i < v.length && v[i] !== '+') {
    const c = v[i]!;
    if (!isIdentChar(c) && c !== '.') {
      return null;
    }
    if (c === '.') {
      if (start === i || isBadNum(v.slice(start, i))) {
        return null;
      }
      start = i + 1;
    }
    i++;
  }
  if (start === i || isBadNum(v.slice(start, i))) {
    return null;
  }
  return [v.slice(0, i), v.slice(i)];
}

function parseBuild(v: string): [string, string] | null {
  if (v === '' || v[0] !== '+') {
    return null;
  }
  let i = 1;
  let start = 1;
  while (i < v.length) {
    const c = v[i]!;
    if (!isIdentChar(c) && c !== '.') {
      return null;
    }
    if (c === '.') {
      if (start === i) {
        return null;
      }
      start = i + 1;
    }
    i++;
  }
  if (start === i) {
    return null;
  }
  return [v.slice(0, i), v.slice(i)];
}

function isIdentChar(c: string): boolean {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c === '-';
}

function isBadNum(v: string): boolean {
  let i = 0;
  while (i < v.length && isDigit(v[i])) {
    i++;
  }
  return i === v.length && i > 1 && v[0] === '0';
}

function isNum(v: string): boolean {
  let i = 0;
  while (i < v.length && isDigit(v[i])) {
    i++;
  }
  return i === v.length;
}

/** Decimal strings without leading zeros: longer is larger, else plain string order. */
function compareInt(x: string, y: string): -1 | 0 | 1 {
  if (x === y) {
    return 0;
  }
  if (x.length !== y.length) {
    return x.length < y.length ? -1 : 1;
  }
  return x < y ? -1 : 1;
}

function comparePrerelease(x: string, y: string): -1 | 0 | 1 {
  // A release is above its pre-releases; identifiers compare numerically when both are
  // numeric, numeric below alphanumeric, otherwise by ASCII; more identifiers is higher.
  if (x === y) {
    return 0;
  }
  if (x === '') {
    return 1;
  }
  if (y === '') {
    return -1;
  }
  while (x !== '' && y !== '') {
    x = x.slice(1); // skip - or .
    y = y.slice(1);
    let dx: string;
    let dy: string;
    [dx, x] = nextIdent(x);
    [dy, y] = nextIdent(y);
    if (dx !== dy) {
      const ix = isNum(dx);
      const iy = isNum(dy);
      if (ix !== iy) {
        return ix ? -1 : 1;
      }
      if (ix && dx.length !== dy.length) {
        return dx.length < dy.length ? -1 : 1;
      }
      return dx < dy ? -1 : 1;
    }
  }
  return x === '' ? -1 : 1;
}

function nextIdent(x: string): [string, string] {
  let i = 0;
  while (i < x.length && x[i] !== '.') {
    i++;
  }
  return [x.slice(0, i), x.slice(i)];
}
