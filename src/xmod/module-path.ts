/**
 * Port of golang.org/x/mod/module/module.go (x/mod v0.7.0): module, import and file path
 * checks, the "!"-case encoding used in proxy URLs, major-version suffixes and Check.
 *
 * Error messages are spelled exactly as Go's Error() strings, because they end up in 404
 * bodies and `go` prints them: a proxy that phrases them differently is visibly different
 * from direct mode.
 */
import * as semver from './semver.js';
import { isLetter, isPrint, isWellFormed, strToFold } from './unicode-fold.js';

// ---------------------------------------------------------------------------------------------
// Go-style quoting, for messages that Go builds with %q.

const HEX = '0123456789abcdef';

function hex(r: number, digits: number): string {
  let out = '';
  for (let s = (digits - 1) * 4; s >= 0; s -= 4) {
    out += HEX[(r >>> s) & 0xf];
  }
  return out;
}

/** Mirrors strconv.appendEscapedRune (ASCIIonly = graphicOnly = false). */
function escapeRune(r: number, quote: string): string {
  const q = quote.charCodeAt(0);
  if (r === q || r === 0x5c) {
    return '\\' + String.fromCodePoint(r);
  }
  if (isPrint(r)) {
    return String.fromCodePoint(r);
  }
  switch (r) {
    case 0x07:
      return '\\a';
    case 0x08:
      return '\\b';
    case 0x0c:
      return '\\f';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    case 0x0b:
      return '\\v';
  }
  if (r < 0x20 || r === 0x7f) {
    return '\\x' + hex(r, 2);
  }
  if ((r >= 0xd800 && r <= 0xdfff) || r > 0x10ffff) {
    r = 0xfffd; // !utf8.ValidRune: Go prints RuneError
  }
  if (r < 0x10000) {
    return '\\u' + hex(r, 4);
  }
  return '\\U' + hex(r, 8);
}

/** strconv.Quote, i.e. what fmt's %q does with a string. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    out += escapeRune(ch.codePointAt(0)!, '"');
  }
  return out + '"';
}

/** strconv.QuoteRune, i.e. what fmt's %q does with a rune. */
export function goQuoteRune(r: number): string {
  return "'" + escapeRune(r, "'") + "'";
}

// ---------------------------------------------------------------------------------------------
// Error types, mirroring module.InvalidVersionError, module.ModuleError, module.InvalidPathError.

/** module.InvalidVersionError: `version "v" invalid: reason` (or `pseudo-version …`). */
export class InvalidVersionError extends Error {
  readonly version: string;
  readonly reason: string;
  readonly pseudo: boolean;
  constructor(version: string, reason: string, pseudo = false) {
    super(`${pseudo ? 'pseudo-version' : 'version'} ${goQuote(version)} invalid: ${reason}`);
    this.name = 'InvalidVersionError';
    this.version = version;
    this.reason = reason;
    this.pseudo = pseudo;
  }
  get noun(): string {
    return this.pseudo ? 'pseudo-version' : 'version';
  }
}

/** module.ModuleError: an error about one module (and maybe one version). */
export class ModuleError extends Error {
  readonly path: string;
  readonly version: string;
  readonly err: Error;
  constructor(path: string, version: string, err: Error) {
    super(ModuleError.format(path, version, err), { cause: err });
    this.name = 'ModuleError';
    this.path = path;
    this.version = version;
    this.err = err;
  }
  private static format(path: string, version: string, err: Error): string {
    if (err instanceof InvalidVersionError) {
      return `${path}@${err.version}: invalid ${err.noun}: ${err.reason}`;
    }
    if (version !== '') {
      return `${path}@${version}: ${err.message}`;
    }
    return `module ${path}: ${err.message}`;
  }
}

export type PathKind = 'module' | 'import' | 'file';

/** module.InvalidPathError: `malformed <kind> path "p": reason`. */
export class InvalidPathError extends Error {
  readonly kind: PathKind;
  readonly path: string;
  readonly reason: string;
  constructor(kind: PathKind, path: string, reason: string) {
    super(`malformed ${kind} path ${goQuote(path)}: ${reason}`);
    this.name = 'InvalidPathError';
    this.kind = kind;
    this.path = path;
    this.reason = reason;
  }
}

/** A failed EscapePath/UnescapePath/UnescapeVersion (Go returns a plain fmt error). */
export class EscapeError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EscapeError';
  }
}

// ---------------------------------------------------------------------------------------------
// Character classes (firstPathOK, modPathOK, importPathOK, fileNameOK).

function isAsciiAlnum(r: number): boolean {
  return (r >= 0x30 && r <= 0x39) || (r >= 0x41 && r <= 0x5a) || (r >= 0x61 && r <= 0x7a);
}

function firstPathOK(r: number): boolean {
  return r === 0x2d || r === 0x2e || (r >= 0x30 && r <= 0x39) || (r >= 0x61 && r <= 0x7a);
}

function modPathOK(r: number): boolean {
  if (r < 0x80) {
    return r === 0x2d || r === 0x2e || r === 0x5f || r === 0x7e || isAsciiAlnum(r);
  }
  return false;
}

function importPathOK(r: number): boolean {
  return modPathOK(r) || r === 0x2b;
}

// Shell-special characters and path separators (" ' * < > ? ` | / : \) are left out.
const FILE_NAME_PUNCT = '!#$%&()+,-.=@[]^_{}~ ';

function fileNameOK(r: number): boolean {
  if (r < 0x80) {
    return isAsciiAlnum(r) || FILE_NAME_PUNCT.includes(String.fromCharCode(r));
  }
  return isLetter(r);
}

const BAD_WINDOWS_NAMES = [
  'CON',
  'PRN',
  'AUX',
  'NUL',
  'COM1',
  'COM2',
  'COM3',
  'COM4',
  'COM5',
  'COM6',
  'COM7',
  'COM8',
  'COM9',
  'LPT1',
  'LPT2',
  'LPT3',
  'LPT4',
  'LPT5',
  'LPT6',
  'LPT7',
  'LPT8',
  'LPT9',
].map(strToFold);

// ---------------------------------------------------------------------------------------------
// Path checks.

/** module.checkPath: the checks shared by module, import and file paths; returns the reason. */
function checkPathReason(path: string, kind: PathKind): string | null {
  if (!isWellFormed(path)) {
    return 'invalid UTF-8';
  }
  if (path === '') {
    return 'empty string';
  }
  if (path[0] === '-' && kind !== 'file') {
    return 'leading dash';
  }
  if (path.includes('//')) {
    return 'double slash';
  }
  if (path.endsWith('/')) {
    return 'trailing slash';
  }
  for (const elem of path.split('/')) {
    const reason = checkElem(elem, kind);
    if (reason !== null) {
      return reason;
    }
  }
  return null;
}

/** module.checkElem: the checks on one path element; returns the reason or null. */
function checkElem(elem: string, kind: PathKind): string | null {
  if (elem === '') {
    return 'empty path element';
  }
  if (/^\.+$/.test(elem)) {
    return `invalid path element ${goQuote(elem)}`;
  }
  if (elem[0] === '.' && kind === 'module') {
    return 'leading dot in path element';
  }
  if (elem.endsWith('.')) {
    return 'trailing dot in path element';
  }
  const ok = kind === 'module' ? modPathOK : kind === 'import' ? importPathOK : fileNameOK;
  for (const ch of elem) {
    const r = ch.codePointAt(0)!;
    if (!ok(r)) {
      return `invalid char ${goQuoteRune(r)}`;
    }
  }

  // Windows reserves these names whatever follows the first dot and whatever the case.
  const dot = elem.indexOf('.');
  const short = dot >= 0 ? elem.slice(0, dot) : elem;
  const foldedShort = strToFold(short);
  if (BAD_WINDOWS_NAMES.includes(foldedShort)) {
    return `${goQuote(short)} disallowed as path element component on Windows`;
  }

  if (kind === 'file') {
    // Windows short names (FOO~1) only matter for import paths.
    return null;
  }
  const tilde = short.lastIndexOf('~');
  if (tilde >= 0 && tilde < short.length - 1 && /^[0-9]+$/.test(short.slice(tilde + 1))) {
    return 'trailing tilde and digits in path element';
  }
  return null;
}

/**
 * module.CheckPath: whether `path` is a valid module path. Returns the error Go would return
 * (an InvalidPathError) or null.
 */
export function checkPath(path: string): InvalidPathError | null {
  const reason = checkModulePathReason(path);
  return reason === null ? null : new InvalidPathError('module', path, reason);
}

function checkModulePathReason(path: string): string | null {
  const reason = checkPathReason(path, 'module');
  if (reason !== null) {
    return reason;
  }
  let i = path.indexOf('/');
  if (i < 0) {
    i = path.length;
  }
  if (i === 0) {
    return 'leading slash';
  }
  const first = path.slice(0, i);
  if (!first.includes('.')) {
    return 'missing dot in first path element';
  }
  if (path[0] === '-') {
    return 'leading dash in first path element';
  }
  for (const ch of first) {
    const r = ch.codePointAt(0)!;
    if (!firstPathOK(r)) {
      return `invalid char ${goQuoteRune(r)} in first path element`;
    }
  }
  if (!splitPathVersion(path).ok) {
    return 'invalid version';
  }
  return null;
}

/** module.CheckImportPath */
export function checkImportPath(path: string): InvalidPathError | null {
  const reason = checkPathReason(path, 'import');
  return reason === null ? null : new InvalidPathError('import', path, reason);
}

/** module.CheckFilePath: file names inside a module zip (Unicode letters allowed). */
export function checkFilePath(path: string): InvalidPathError | null {
  const reason = checkPathReason(path, 'file');
  return reason === null ? null : new InvalidPathError('file', path, reason);
}

// ---------------------------------------------------------------------------------------------
// Major-version suffixes.

export interface SplitPath {
  prefix: string;
  /** "" or "/vN" (N >= 2), or for gopkg.in ".vN" / ".vN-unstable". */
  pathMajor: string;
  ok: boolean;
}

function isDigitAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 0x30 && c <= 0x39;
}

/** module.SplitPathVersion: "example.com/m/v2" → { prefix: "example.com/m", pathMajor: "/v2" }. */
export function splitPathVersion(path: string): SplitPath {
  if (path.startsWith('gopkg.in/')) {
    return splitGopkgIn(path);
  }
  let i = path.length;
  let dot = false;
  while (i > 0 && (isDigitAt(path, i - 1) || path[i - 1] === '.')) {
    if (path[i - 1] === '.') {
      dot = true;
    }
    i--;
  }
  if (i <= 1 || i === path.length || path[i - 1] !== 'v' || path[i - 2] !== '/') {
    return { prefix: path, pathMajor: '', ok: true };
  }
  const prefix = path.slice(0, i - 2);
  const pathMajor = path.slice(i - 2);
  if (dot || pathMajor.length <= 2 || pathMajor[2] === '0' || pathMajor === '/v1') {
    return { prefix: path, pathMajor: '', ok: false };
  }
  return { prefix, pathMajor, ok: true };
}

/** module.splitGopkgIn: gopkg.in paths end in ".vN" (any N, .v0 included) or ".vN-unstable". */
function splitGopkgIn(path: string): SplitPath {
  if (!path.startsWith('gopkg.in/')) {
    return { prefix: path, pathMajor: '', ok: false };
  }
  let i = path.length;
  if (path.endsWith('-unstable')) {
    i -= '-unstable'.length;
  }
  while (i > 0 && isDigitAt(path, i - 1)) {
    i--;
  }
  if (i <= 1 || path[i - 1] !== 'v' || path[i - 2] !== '.') {
    return { prefix: path, pathMajor: '', ok: false };
  }
  const prefix = path.slice(0, i - 2);
  const pathMajor = path.slice(i - 2);
  if (pathMajor.length <= 2 || (pathMajor[2] === '0' && pathMajor !== '.v0')) {
    return { prefix: path, pathMajor: '', ok: false };
  }
  return { prefix, pathMajor, ok: true };
}

/** module.CheckPathMajor: null if version `v` fits the path's major suffix. */
export function checkPathMajor(v: string, pathMajor: string): InvalidVersionError | null {
  if (pathMajor.startsWith('.v') && pathMajor.endsWith('-unstable')) {
    pathMajor = pathMajor.slice(0, -'-unstable'.length);
  }
  if (v.startsWith('v0.0.0-') && pathMajor === '.v1') {
    // An old go command wrote v0.0.0- pseudo-versions for gopkg.in .v1 paths; they stay valid.
    return null;
  }
  const m = semver.major(v);
  if (pathMajor === '') {
    if (m === 'v0' || m === 'v1' || semver.build(v) === '+incompatible') {
      return null;
    }
    pathMajor = 'v0 or v1';
  } else if (pathMajor[0] === '/' || pathMajor[0] === '.') {
    if (m === pathMajor.slice(1)) {
      return null;
    }
    pathMajor = pathMajor.slice(1);
  }
  return new InvalidVersionError(v, `should be ${pathMajor}, not ${semver.major(v)}`);
}

/** module.MatchPathMajor */
export function matchPathMajor(v: string, pathMajor: string): boolean {
  return checkPathMajor(v, pathMajor) === null;
}

/**
 * module.PathMajorPrefix: the major version a path suffix implies ("" allows v0 and v1).
 * Throws where Go panics (a suffix that SplitPathVersion would never return).
 */
export function pathMajorPrefix(pathMajor: string): string {
  if (pathMajor === '') {
    return '';
  }
  if (pathMajor[0] !== '/' && pathMajor[0] !== '.') {
    throw new Error(`pathMajor suffix ${pathMajor} passed to PathMajorPrefix lacks separator`);
  }
  if (pathMajor.startsWith('.v') && pathMajor.endsWith('-unstable')) {
    pathMajor = pathMajor.slice(0, -'-unstable'.length);
  }
  const m = pathMajor.slice(1);
  if (m !== semver.major(m)) {
    throw new Error(`pathMajor suffix ${pathMajor}passed to PathMajorPrefix is not a valid major version`);
  }
  return m;
}

/** module.CanonicalVersion: semver.canonical but keeping a "+incompatible" build suffix. */
export function canonicalVersion(v: string): string {
  let cv = semver.canonical(v);
  if (semver.build(v) === '+incompatible') {
    cv += '+incompatible';
  }
  return cv;
}

/** module.Check: valid module path, valid semver, and the two agree on the major version. */
export function check(path: string, version: string): Error | null {
  const pathErr = checkPath(path);
  if (pathErr !== null) {
    return pathErr;
  }
  if (!semver.isValid(version)) {
    return new ModuleError(path, '', new InvalidVersionError(version, 'not a semantic version'));
  }
  const majorErr = checkPathMajor(version, splitPathVersion(path).pathMajor);
  if (majorErr !== null) {
    return new ModuleError(path, '', majorErr);
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Case encoding ("!"-escaping) for proxy URLs and cache paths.

/** module.EscapePath: "github.com/Azure/x" → "github.com/!azure/x". Throws if the path is invalid. */
export function escapePath(path: string): string {
  const err = checkPath(path);
  if (err !== null) {
    throw err;
  }
  return escapeString(path);
}

/**
 * module.EscapeVersion: versions need not be semver but must be valid file names without "!".
 * Throws an InvalidVersionError ("disallowed version string") otherwise, e.g. for "feature/x".
 */
export function escapeVersion(v: string): string {
  if (checkElem(v, 'file') !== null || v.includes('!')) {
    throw new InvalidVersionError(v, 'disallowed version string');
  }
  return escapeString(v);
}

function escapeString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x21 || c >= 0x80) {
      // The path checks rule these out; escaping would be ambiguous otherwise.
      throw new EscapeError('internal error: inconsistency in EscapePath');
    }
  }
  return s.replace(/[A-Z]/g, (c) => '!' + c.toLowerCase());
}

/** module.unescapeString: null for "!" before a non a–z, a trailing "!", bare A–Z or non-ASCII. */
function unescapeString(escaped: string): string | null {
  let out = '';
  let bang = false;
  for (let i = 0; i < escaped.length; i++) {
    const c = escaped.charCodeAt(i);
    if (c >= 0x80) {
      return null;
    }
    if (bang) {
      bang = false;
      if (c < 0x61 || c > 0x7a) {
        return null;
      }
      out += String.fromCharCode(c - 0x20);
      continue;
    }
    if (c === 0x21) {
      bang = true;
      continue;
    }
    if (c >= 0x41 && c <= 0x5a) {
      return null;
    }
    out += escaped[i];
  }
  return bang ? null : out;
}

/** module.UnescapePath: "github.com/!azure/x" → "github.com/Azure/x". Throws an EscapeError. */
export function unescapePath(escaped: string): string {
  const path = unescapeString(escaped);
  if (path === null) {
    throw new EscapeError(`invalid escaped module path ${goQuote(escaped)}`);
  }
  const err = checkPath(path);
  if (err !== null) {
    throw new EscapeError(`invalid escaped module path ${goQuote(escaped)}: ${err.message}`, { cause: err });
  }
  return path;
}

/** module.UnescapeVersion: "v1.0.0-!r!c1" → "v1.0.0-RC1". Throws an EscapeError. */
export function unescapeVersion(escaped: string): string {
  const v = unescapeString(escaped);
  if (v === null) {
    throw new EscapeError(`invalid escaped version ${goQuote(escaped)}`);
  }
  const reason = checkElem(v, 'file');
  if (reason !== null) {
    // Go quotes the unescaped form here, unlike UnescapePath.
    throw new EscapeError(`invalid escaped version ${goQuote(v)}: ${reason}`);
  }
  return v;
}
