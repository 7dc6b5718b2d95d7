/**
 * In-tree `.gitattributes`, evaluated the way `git archive` (git 2.39, attr.c + dir.c +
 * wildmatch.c) evaluates them for the files it writes, restricted to the attributes that change
 * archived bytes: `text`, `crlf`, `eol`, `ident`, `working-tree-encoding` (and any macro that
 * can reach them).
 *
 * Why this exists: direct-mode `go` builds module zips with
 * `git -c core.autocrlf=input -c core.eol=lf archive <commit>` and git applies the output
 * conversions named by the archived tree's own `.gitattributes` (cmd/go/internal/modfetch/codehost
 * git.go `ReadZip`; git's archive.c and convert.c).
 * We serve zips without a git binary, so we must decide exactly as git does.
 *
 * The environment modelled (what `go` gives git, with a clean config):
 * - attributes are read from the index git archive builds from the archived tree
 *   (GIT_ATTR_INDEX), root `.gitattributes` first, then each directory down to the file's;
 * - `$GIT_DIR/info/attributes` is `* -export-subst -export-ignore` (touches nothing here);
 * - no system (/etc/gitattributes) or global (core.attributesFile) attributes file, no filter
 *   drivers, core.ignorecase false (matching is case-sensitive).
 *
 * Usage, while walking a commit's tree depth-first (see also archive-filter.ts):
 *
 *   const root = AttributeScope.root(rootGitattributesBlobOrNull);
 *   const sub = root.child('a', aGitattributesBlobOrNull);       // one per directory level
 *   const filter = sub.archiveFilterFor('a/file.txt');            // null: bytes unchanged
 *   if (filter) bytes = applyArchiveFilter(bytes, blobOid, filter);
 *
 * Pass a `.gitattributes` blob only when that entry is a regular file (100644/100755): git reads
 * in-tree attributes without following symlinks, and a symlinked `.gitattributes` is ignored
 * (checked against git 2.39.5). Call `archiveFilterFor` only for regular files: git archive
 * converts nothing else. Skipping `child()` for a directory with no `.gitattributes` is fine.
 *
 * Not modelled: paths that are not valid UTF-8 (we match the UTF-8 encoding of the decoded
 * name; Go rejects such files anyway); `[[:class:]]` on bytes >= 0x80 (git's own ctype says no
 * to all of them, so do we; glibc's isgraph/isblank in a non-C locale could differ).
 */

import { ArchiveAttributeError, InternalError } from '../../errors.js';

// ---------------------------------------------------------------------------------------------
// Attribute values

/**
 * An attribute's state as a line sets it: `attr` → true, `-attr` → false, `!attr` → null
 * (explicitly back to "unspecified", which still stops lower-priority lines), `attr=v` → v.
 * Values are decoded as latin1 so every byte survives and compares as git's strcmp would.
 */
export type AttrValue = true | false | null | string;

export interface AttrState {
  readonly name: string;
  readonly value: AttrValue;
}

/** One pattern line of a `.gitattributes` file. */
export interface AttrRule {
  readonly pattern: AttrPattern;
  /** In line order; macros are not expanded here. */
  readonly states: readonly AttrState[];
}

/** One `[attr]name …` line (only honoured in the root `.gitattributes`). */
export interface MacroDefinition {
  readonly name: string;
  readonly states: readonly AttrState[];
}

export interface ParsedAttributes {
  /** In file order; later lines win. */
  readonly rules: readonly AttrRule[];
  /** In file order; for a name defined twice the later line wins. */
  readonly macros: readonly MacroDefinition[];
}

// ---------------------------------------------------------------------------------------------
// Parsing (attr.c: read_attr_from_buf, parse_attr_line, parse_attr)

/** git ignores a `.gitattributes` blob this large or larger (attr.c ATTR_MAX_FILE_SIZE). */
export const ATTR_MAX_FILE_SIZE = 100 * 1024 * 1024;
/** git ignores a (non-comment) line this long or longer (attr.c ATTR_MAX_LINE_LENGTH). */
export const ATTR_MAX_LINE_LENGTH = 2048;

const MACRO_PREFIX = Buffer.from('[attr]', 'latin1');

const SP = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const HASH = 0x23;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const SLASH = 0x2f;
const EQUALS = 0x3d;
const MINUS = 0x2d;
const BANG = 0x21;
const STAR = 0x2a;
const QMARK = 0x3f;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COLON = 0x3a;
const CARET = 0x5e;

/** attr.c `blank`: the separators between a pattern and its states. */
function isBlank(c: number): boolean {
  return c === SP || c === TAB || c === CR || c === LF;
}

function skipBlanks(b: Uint8Array, i: number, end: number): number {
  while (i < end && isBlank(b[i]!)) i++;
  return i;
}

function skipNonBlanks(b: Uint8Array, i: number, end: number): number {
  while (i < end && !isBlank(b[i]!)) i++;
  return i;
}

/** attr.c attr_name_valid: `[-A-Za-z0-9_.]+`, not starting with '-'. */
function attrNameValid(b: Uint8Array, start: number, end: number): boolean {
  if (end <= start || b[start] === MINUS) return false;
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    const ok = c === MINUS || c === 0x2e || c === 0x5f || (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
    if (!ok) return false;
  }
  return true;
}

/**
 * Parses a whole `.gitattributes` blob. `macrosAllowed` is true only for the repository root's
 * file: git drops `[attr]` lines anywhere else ("not allowed"). Lines git warns about and skips
 * (invalid attribute names, negative patterns, over-long lines) are skipped here too.
 */
export function parseGitAttributes(blob: Uint8Array, macrosAllowed: boolean): ParsedAttributes {
  const rules: AttrRule[] = [];
  const macros: MacroDefinition[] = [];
  if (blob.length >= ATTR_MAX_FILE_SIZE) return { rules, macros };
  // git reads the blob as a C string: nothing after a NUL byte exists. A UTF-8 BOM is not
  // skipped when reading from the index (checked against git 2.39.5).
  let size = blob.indexOf(0);
  if (size < 0) size = blob.length;
  let start = 0;
  while (start < size) {
    let end = blob.indexOf(LF, start);
    if (end < 0 || end > size) end = size;
    parseLine(blob, start, end, macrosAllowed, rules, macros);
    start = end + 1;
  }
  return { rules, macros };
}

function parseLine(
  b: Uint8Array,
  lineStart: number,
  lineEnd: number,
  macrosAllowed: boolean,
  rules: AttrRule[],
  macros: MacroDefinition[],
): void {
  const cp = skipBlanks(b, lineStart, lineEnd);
  if (cp === lineEnd || b[cp] === HASH) return;
  if (lineEnd - lineStart >= ATTR_MAX_LINE_LENGTH) return;

  // The name (pattern or "[attr]macro") lives either in the line or in an unquoted copy.
  let nameBuf: Uint8Array = b;
  let nameStart = cp;
  let nameEnd: number;
  let statesStart: number;
  const unquoted = b[cp] === DQUOTE ? unquoteCStyle(b, cp, lineEnd) : null;
  if (unquoted) {
    nameBuf = unquoted.value;
    nameStart = 0;
    nameEnd = unquoted.value.length;
    statesStart = unquoted.end;
  } else {
    nameEnd = skipNonBlanks(b, cp, lineEnd);
    statesStart = nameEnd;
  }
  // Everything downstream treats the name as a C string.
  const nul = nameBuf.subarray(nameStart, nameEnd).indexOf(0);
  const cNameEnd = nul < 0 ? nameEnd : nameStart + nul;

  let isMacro = false;
  let macroName = '';
  if (cNameEnd - nameStart > MACRO_PREFIX.length && startsWithBytes(nameBuf, nameStart, MACRO_PREFIX)) {
    if (!macrosAllowed) return;
    isMacro = true;
    const ms = skipBlanks(nameBuf, nameStart + MACRO_PREFIX.length, cNameEnd);
    const me = skipNonBlanks(nameBuf, ms, cNameEnd);
    if (!attrNameValid(nameBuf, ms, me)) return;
    macroName = latin1(nameBuf, ms, me);
  }

  const states = parseStates(b, skipBlanks(b, statesStart, lineEnd), lineEnd);
  if (!states) return;

  if (isMacro) {
    macros.push({ name: macroName, states });
    return;
  }
  const pattern = parsePattern(nameBuf.subarray(nameStart, cNameEnd));
  if (!pattern) return;
  rules.push({ pattern, states });
}

/** Both passes of attr.c parse_attr over the rest of a line; null when any state is invalid. */
function parseStates(b: Uint8Array, cp: number, end: number): AttrState[] | null {
  const states: AttrState[] = [];
  while (cp < end) {
    const ep = skipNonBlanks(b, cp, end);
    // git uses strchr on the rest of the line and keeps the '=' only if it is in this token.
    let equals = -1;
    for (let i = cp; i < ep; i++) {
      if (b[i] === EQUALS) {
        equals = i;
        break;
      }
    }
    let nameStart = cp;
    const nameEnd = equals >= 0 ? equals : ep;
    let value: AttrValue;
    const first = b[cp];
    if (first === MINUS || first === BANG) {
      value = first === MINUS ? false : null;
      nameStart++;
    } else if (equals < 0) {
      value = true;
    } else {
      value = latin1(b, equals + 1, ep);
    }
    if (!attrNameValid(b, nameStart, nameEnd)) return null;
    states.push({ name: latin1(b, nameStart, nameEnd), value });
    cp = skipBlanks(b, ep, end);
  }
  return states;
}

/**
 * quote.c unquote_c_style on the line from the opening '"'. Returns the unquoted bytes and the
 * index just after the closing quote, or null if the quoting is malformed (then git treats the
 * name as an ordinary unquoted word, quotes included).
 */
function unquoteCStyle(b: Uint8Array, start: number, end: number): { value: Uint8Array; end: number } | null {
  const out: number[] = [];
  let i = start + 1;
  for (;;) {
    if (i >= end) return null;
    let c = b[i++]!;
    if (c === DQUOTE) return { value: Uint8Array.from(out), end: i };
    if (c !== BACKSLASH) {
      out.push(c);
      continue;
    }
    if (i >= end) return null;
    c = b[i++]!;
    switch (c) {
      case 0x61:
        out.push(0x07);
        break; // \a
      case 0x62:
        out.push(0x08);
        break; // \b
      case 0x66:
        out.push(0x0c);
        break; // \f
      case 0x6e:
        out.push(0x0a);
        break; // \n
      case 0x72:
        out.push(0x0d);
        break; // \r
      case 0x74:
        out.push(0x09);
        break; // \t
      case 0x76:
        out.push(0x0b);
        break; // \v
      case BACKSLASH:
      case DQUOTE:
        out.push(c);
        break;
      default: {
        // Three octal digits, the first 0-3 (git: "octal values with first digit over 4 overflow").
        if (c < 0x30 || c > 0x33) return null;
        let ac = (c - 0x30) << 6;
        for (const shift of [3, 0]) {
          if (i >= end) return null;
          const d = b[i++]!;
          if (d < 0x30 || d > 0x37) return null;
          ac |= (d - 0x30) << shift;
        }
        out.push(ac);
      }
    }
  }
}

function startsWithBytes(b: Uint8Array, at: number, prefix: Uint8Array): boolean {
  if (b.length - at < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (b[at + i] !== prefix[i]) return false;
  return true;
}

function latin1(b: Uint8Array, start: number, end: number): string {
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
}

// ---------------------------------------------------------------------------------------------
// Patterns (dir.c: parse_path_pattern, match_basename, match_pathname)

export interface AttrPattern {
  /** The pattern bytes without a leading '!' or trailing '/' (git's pattern/patternlen). */
  readonly bytes: Uint8Array;
  /** Length of the leading part with no glob-special character (git's nowildcardlen). */
  readonly noWildcardLen: number;
  /** Pattern had a trailing '/': matches directories only, so never a file. */
  readonly mustBeDir: boolean;
  /** No '/' in the pattern: matched against the basename at any depth. */
  readonly noDir: boolean;
  /** `*literal`: a plain suffix test. */
  readonly endsWith: boolean;
}

function isGlobSpecial(c: number): boolean {
  return c === STAR || c === QMARK || c === LBRACKET || c === BACKSLASH;
}

/** dir.c simple_length. */
function simpleLength(b: Uint8Array, from = 0): number {
  let i = from;
  while (i < b.length && !isGlobSpecial(b[i]!)) i++;
  return i - from;
}

/** dir.c parse_path_pattern; null for a negative pattern (git ignores those lines). */
export function parsePattern(raw: Uint8Array): AttrPattern | null {
  if (raw[0] === BANG) return null;
  let len = raw.length;
  let mustBeDir = false;
  if (len > 0 && raw[len - 1] === SLASH) {
    len--;
    mustBeDir = true;
  }
  const bytes = raw.slice(0, len);
  const noDir = bytes.indexOf(SLASH) < 0;
  const noWildcardLen = Math.min(simpleLength(raw), len);
  // git tests no_wildcard(p + 1) on the string before the trailing '/' is cut.
  const endsWith = raw[0] === STAR && 1 + simpleLength(raw, 1) === raw.length;
  return { bytes, noWildcardLen, mustBeDir, noDir, endsWith };
}

/** Parses a pattern given as text (UTF-8), for tests and diagnostics. */
export function parsePatternText(pattern: string): AttrPattern | null {
  return parsePattern(Buffer.from(pattern, 'utf8'));
}

function bytesEqual(a: Uint8Array, aStart: number, b: Uint8Array, bStart: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
}

/**
 * attr.c path_matches for a *file* (never a directory). `path` is relative to the repository
 * root; `base` is the directory holding the `.gitattributes` ("" for the root), without a
 * trailing slash; `basenameOffset` is where the last path component starts.
 */
export function patternMatchesFile(pat: AttrPattern, path: Uint8Array, basenameOffset: number, base: Uint8Array): boolean {
  if (pat.mustBeDir) return false;
  const p = pat.bytes;
  const plen = p.length;
  if (pat.noDir) {
    const blen = path.length - basenameOffset;
    if (pat.noWildcardLen === plen) return plen === blen && bytesEqual(p, 0, path, basenameOffset, plen);
    if (pat.endsWith) return plen - 1 <= blen && bytesEqual(p, 1, path, path.length - (plen - 1), plen - 1);
    return dowild(p, 0, path, basenameOffset, 0) === WM_MATCH;
  }

  // match_pathname: the pattern has the base directory implicitly in front of it.
  let ps = 0;
  let prefix = pat.noWildcardLen;
  if (p[0] === SLASH) {
    ps = 1;
    prefix--;
  }
  const baselen = base.length;
  if (path.length < baselen + 1 || (baselen > 0 && path[baselen] !== SLASH) || !bytesEqual(path, 0, base, 0, baselen)) {
    return false;
  }
  let ns = baselen > 0 ? baselen + 1 : 0;
  let namelen = path.length - ns;
  if (prefix > 0) {
    if (prefix > namelen) return false;
    if (!bytesEqual(p, ps, path, ns, prefix)) return false;
    ps += prefix;
    ns += prefix;
    namelen -= prefix;
    if (ps === plen && namelen === 0) return true;
  }
  // git hands wildmatch a fresh string that starts after the literal prefix; that start is what
  // dowild's "is '**' at the beginning of the pattern" test looks at, so keep it.
  return dowild(p, ps, path, ns, WM_PATHNAME) === WM_MATCH;
}

// ---------------------------------------------------------------------------------------------
// wildmatch.c, ported literally (return codes matter: ABORT_* cut the backtracking short)

export const WM_PATHNAME = 2;
const WM_MATCH = 0;
const WM_NOMATCH = 1;
const WM_ABORT_ALL = -1;
const WM_ABORT_TO_STARSTAR = -2;

// git's own ctype (git-compat-util.h sane_ctype): ASCII only, and isspace is " \t\n\r" only.
function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}
function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
function charClass(name: string, c: number): boolean | null {
  switch (name) {
    case 'alnum':
      return isAlpha(c) || isDigit(c);
    case 'alpha':
      return isAlpha(c);
    case 'blank':
      return c === SP || c === TAB;
    case 'cntrl':
      return c < 0x20 || c === 0x7f;
    case 'digit':
      return isDigit(c);
    case 'graph':
      return c > 0x20 && c < 0x7f;
    case 'lower':
      return c >= 0x61 && c <= 0x7a;
    case 'print':
      return c >= 0x20 && c < 0x7f;
    case 'punct':
      return c > 0x20 && c < 0x7f && !isAlpha(c) && !isDigit(c);
    case 'space':
      return c === SP || c === TAB || c === LF || c === CR;
    case 'upper':
      return c >= 0x41 && c <= 0x5a;
    case 'xdigit':
      return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
    default:
      return null;
  }
}

/**
 * Matches pattern bytes `p` from index `pi` against `t` from index `ti` (both end at the array
 * end, which plays the C string's NUL). Case-sensitive: core.ignorecase is false here.
 */
export function dowild(p: Uint8Array, pi: number, t: Uint8Array, ti: number, flags: number): number {
  const patternStart = pi;
  const pAt = (i: number): number => (i < p.length ? p[i]! : 0);
  const tAt = (i: number): number => (i < t.length ? t[i]! : 0);
  const pathname = (flags & WM_PATHNAME) !== 0;

  for (; pAt(pi) !== 0; ti++, pi++) {
    let pCh = pAt(pi);
    let tCh = tAt(ti);
    if (tCh === 0 && pCh !== STAR) return WM_ABORT_ALL;
    switch (pCh) {
      case BACKSLASH:
        // Literal match with the next pattern byte (a trailing '\' compares with NUL and fails).
        pCh = pAt(++pi);
        if (tCh !== pCh) return WM_NOMATCH;
        continue;
      case QMARK:
        if (pathname && tCh === SLASH) return WM_NOMATCH;
        continue;
      case STAR: {
        let matchSlash: boolean;
        if (pAt(++pi) === STAR) {
          const prevP = pi - 2;
          while (pAt(++pi) === STAR) {
            /* skip the run of stars */
          }
          if (!pathname) {
            matchSlash = true;
          } else if (
            (prevP < patternStart || pAt(prevP) === SLASH) &&
            (pAt(pi) === 0 || pAt(pi) === SLASH || (pAt(pi) === BACKSLASH && pAt(pi + 1) === SLASH))
          ) {
            // "**/" may match nothing: try the rest of the pattern right here first.
            if (pAt(pi) === SLASH && dowild(p, pi + 1, t, ti, flags) === WM_MATCH) return WM_MATCH;
            matchSlash = true;
          } else {
            matchSlash = false;
          }
        } else {
          matchSlash = !pathname;
        }
        if (pAt(pi) === 0) {
          // Trailing "**" matches everything; trailing "*" only if no '/' is left.
          if (!matchSlash && t.indexOf(SLASH, ti) >= 0) return WM_NOMATCH;
          return WM_MATCH;
        } else if (!matchSlash && pAt(pi) === SLASH) {
          // One star then '/': skip to the next directory; the loop consumes the slash.
          const slash = t.indexOf(SLASH, ti);
          if (slash < 0) return WM_NOMATCH;
          ti = slash;
          break;
        }
        for (;;) {
          if (tCh === 0) break;
          const next = pAt(pi);
          if (!isGlobSpecial(next)) {
            // Fast-forward to the next occurrence of the literal that follows the star.
            while ((tCh = tAt(ti)) !== 0 && (matchSlash || tCh !== SLASH)) {
              if (tCh === next) break;
              ti++;
            }
            if (tCh !== next) return WM_NOMATCH;
          }
          const matched = dowild(p, pi, t, ti, flags);
          if (matched !== WM_NOMATCH) {
            if (!matchSlash || matched !== WM_ABORT_TO_STARSTAR) return matched;
          } else if (!matchSlash && tCh === SLASH) {
            return WM_ABORT_TO_STARSTAR;
          }
          tCh = tAt(++ti);
        }
        return WM_ABORT_ALL;
      }
      case LBRACKET: {
        pCh = pAt(++pi);
        if (pCh === CARET) pCh = BANG;
        const negated = pCh === BANG;
        if (negated) pCh = pAt(++pi);
        let prevCh = 0;
        let matched = false;
        do {
          if (pCh === 0) return WM_ABORT_ALL;
          if (pCh === BACKSLASH) {
            pCh = pAt(++pi);
            if (pCh === 0) return WM_ABORT_ALL;
            if (tCh === pCh) matched = true;
          } else if (pCh === MINUS && prevCh !== 0 && pAt(pi + 1) !== 0 && pAt(pi + 1) !== RBRACKET) {
            pCh = pAt(++pi);
            if (pCh === BACKSLASH) {
              pCh = pAt(++pi);
              if (pCh === 0) return WM_ABORT_ALL;
            }
            if (tCh <= pCh && tCh >= prevCh) matched = true;
            pCh = 0; // so that prevCh becomes 0: no range may start at a range's end
          } else if (pCh === LBRACKET && pAt(pi + 1) === COLON) {
            pi += 2;
            const s = pi;
            while ((pCh = pAt(pi)) !== 0 && pCh !== RBRACKET) pi++;
            if (pCh === 0) return WM_ABORT_ALL;
            const i = pi - s - 1;
            if (i < 0 || pAt(pi - 1) !== COLON) {
              // No ":]": the '[' is an ordinary member of the set.
              pi = s - 2;
              pCh = LBRACKET;
              if (tCh === pCh) matched = true;
              continue;
            }
            const cls = charClass(Buffer.from(p.buffer, p.byteOffset + s, i).toString('latin1'), tCh);
            if (cls === null) return WM_ABORT_ALL; // malformed [:class:]
            if (cls) matched = true;
            pCh = 0;
          } else if (tCh === pCh) {
            matched = true;
          }
          // biome-ignore lint/complexity/noCommaOperator: the loop condition of git's wildmatch.c, kept as written there
        } while (((prevCh = pCh), (pCh = pAt(++pi)) !== RBRACKET));
        if (matched === negated || (pathname && tCh === SLASH)) return WM_NOMATCH;
        continue;
      }
      default:
        if (tCh !== pCh) return WM_NOMATCH;
        continue;
    }
  }
  return tAt(ti) !== 0 ? WM_NOMATCH : WM_MATCH;
}

/** Whole-string wildmatch on text (UTF-8), for tests. */
export function wildmatch(pattern: string, text: string, flags = 0): boolean {
  return dowild(Buffer.from(pattern, 'utf8'), 0, Buffer.from(text, 'utf8'), 0, flags) === WM_MATCH;
}

// ---------------------------------------------------------------------------------------------
// Scopes and lookup (attr.c: prepare_attr_stack, determine_macros, fill, fill_one)

/** What git archive will do to one file's bytes (see archive-filter.ts). */
export interface ArchiveFilter {
  /** `ident` is set: expand `$Id$` (runs first). */
  ident: boolean;
  /**
   * LF→CRLF on output: 'crlf' (text with eol=crlf: every lone LF) or 'crlf-auto' (text=auto
   * with eol=crlf: only if the content looks like text with only lone LFs); null: none.
   */
  eol: 'crlf' | 'crlf-auto' | null;
  /**
   * `working-tree-encoding` other than UTF-8: git re-encodes the bytes from UTF-8 with iconv
   * (runs last). The value as written in the attribute. applyArchiveFilter reproduces the
   * UTF-16/UTF-32/ISO-8859-1/ASCII families (isSupportedWorkingTreeEncoding) and throws
   * UnsupportedWorkingTreeEncodingError for any other name, so callers can refuse the zip.
   */
  workingTreeEncoding?: string;
}

// Attribute slots. Only these five change archived bytes; the scope also tracks every macro
// that can reach them, and drops all other attributes while compiling.
const A_TEXT = 0;
const A_CRLF = 1;
const A_EOL = 2;
const A_IDENT = 3;
const A_WTE = 4;
const BASE_ATTRS = ['text', 'crlf', 'eol', 'ident', 'working-tree-encoding'] as const;

interface CompiledState {
  readonly slot: number;
  readonly value: AttrValue;
}

interface CompiledRule {
  readonly pattern: AttrPattern;
  readonly states: readonly CompiledState[];
}

interface Frame {
  /** Directory holding the `.gitattributes`, as UTF-8 bytes ("" for the root). */
  readonly base: Uint8Array;
  readonly rules: readonly CompiledRule[];
}

/** Attribute slots and macro expansions; fixed by the root `.gitattributes`, shared by all scopes. */
class AttrTable {
  readonly slots = new Map<string, number>();
  /** slot → expansion, for macros whose winning definition reaches a base attribute. */
  readonly macros: (readonly CompiledState[] | undefined)[] = [];

  constructor(rootMacros: readonly MacroDefinition[]) {
    BASE_ATTRS.forEach((name, i) => {
      this.slots.set(name, i);
    });
    // determine_macros: the root file's last definition of a name wins over earlier ones and
    // over the built-in `binary`.
    const defs = new Map<string, readonly AttrState[]>();
    defs.set('binary', BUILTIN_BINARY);
    for (const m of rootMacros) defs.set(m.name, m.states);
    // A macro matters if its expansion names a slot we track, directly or through another
    // macro (even "-othermacro" matters: it stops that macro from expanding later).
    let grew = true;
    while (grew) {
      grew = false;
      for (const [name, states] of defs) {
        if (this.slots.has(name)) continue;
        if (states.some((s) => this.slots.has(s.name))) {
          this.slots.set(name, this.slots.size);
          grew = true;
        }
      }
    }
    // A macro may even be named like a base attribute ("[attr]text …"): it expands when set.
    for (const [name, states] of defs) {
      const slot = this.slots.get(name);
      if (slot === undefined) continue;
      const expansion = this.compileStates(states);
      if (expansion.length > 0) this.macros[slot] = expansion;
    }
  }

  compileStates(states: readonly AttrState[]): CompiledState[] {
    const out: CompiledState[] = [];
    for (const s of states) {
      const slot = this.slots.get(s.name);
      if (slot !== undefined) out.push({ slot, value: s.value });
    }
    return out;
  }

  compileRules(parsed: ParsedAttributes): CompiledRule[] {
    const out: CompiledRule[] = [];
    for (const r of parsed.rules) {
      if (r.pattern.mustBeDir) continue; // can never match a file
      const states = this.compileStates(r.states);
      if (states.length > 0) out.push({ pattern: r.pattern, states });
    }
    return out;
  }
}

const BUILTIN_BINARY: readonly AttrState[] = [
  { name: 'diff', value: false },
  { name: 'merge', value: false },
  { name: 'text', value: false },
];

const UNKNOWN = Symbol('unknown');
type Slot = AttrValue | typeof UNKNOWN;

const EMPTY = new Uint8Array(0);

/**
 * The attributes in force in one directory of one commit: the root `.gitattributes` plus those
 * of every directory down to this one. Immutable; create one per directory while walking.
 */
export class AttributeScope {
  /** `dirPath + "/"`, or "" for the root: every path looked up here starts with it. */
  private readonly dirPrefix: string;

  private constructor(
    private readonly table: AttrTable,
    /** Directory of this scope, relative to the root, no trailing slash ("" for the root). */
    readonly dirPath: string,
    /** Root first; only files that set something we track. */
    private readonly frames: readonly Frame[],
  ) {
    this.dirPrefix = dirPath === '' ? '' : `${dirPath}/`;
  }

  /** The repository root; pass its `.gitattributes` blob if it is a regular file, else null. */
  static root(gitattributes: Buffer | null): AttributeScope {
    const parsed = gitattributes ? parseGitAttributes(gitattributes, true) : { rules: [], macros: [] };
    const table = new AttrTable(parsed.macros);
    const rules = table.compileRules(parsed);
    return new AttributeScope(table, '', rules.length > 0 ? [{ base: EMPTY, rules }] : []);
  }

  /**
   * The scope of a directory below this one (`dirPath` relative to the repository root, e.g.
   * "a/b"), with that directory's `.gitattributes` blob if it is a regular file, else null.
   * `[attr]` lines in it are ignored, as git does outside the root.
   */
  child(dirPath: string, gitattributes: Buffer | null): AttributeScope {
    if (dirPath === '' || dirPath.endsWith('/') || !dirPath.startsWith(this.dirPrefix)) {
      throw new InternalError(`attribute scope: "${dirPath}" is not a directory below "${this.dirPath}"`, { op: 'git.attributes' });
    }
    const rules = gitattributes ? this.table.compileRules(parseGitAttributes(gitattributes, false)) : [];
    if (rules.length === 0) return new AttributeScope(this.table, dirPath, this.frames);
    return new AttributeScope(this.table, dirPath, [...this.frames, { base: Buffer.from(dirPath, 'utf8'), rules }]);
  }

  /** True when no `.gitattributes` in force can change any file's bytes. */
  get isInert(): boolean {
    return this.frames.length === 0;
  }

  /**
   * What git archive does to the regular file at `filePath` (relative to the repository root,
   * inside this scope's directory); null when the bytes go out unchanged. Throws
   * ArchiveAttributeError where git archive itself would die.
   */
  archiveFilterFor(filePath: string): ArchiveFilter | null {
    if (this.frames.length === 0) return null;
    const values = this.lookup(filePath);
    return decideFilter(values, filePath);
  }

  /**
   * The five tracked attributes for a file, as git_check_attr would report them (undefined:
   * unspecified). Exposed for tests and diagnostics.
   */
  attributesFor(filePath: string): Record<(typeof BASE_ATTRS)[number], AttrValue | undefined> {
    const v = this.frames.length === 0 ? [] : this.lookup(filePath);
    const get = (i: number): AttrValue | undefined => {
      const x = v[i];
      return x === UNKNOWN || x === undefined || x === null ? undefined : x;
    };
    return { text: get(A_TEXT), crlf: get(A_CRLF), eol: get(A_EOL), ident: get(A_IDENT), 'working-tree-encoding': get(A_WTE) };
  }

  private lookup(filePath: string): Slot[] {
    if (!filePath.startsWith(this.dirPrefix)) {
      throw new InternalError(`attribute scope: "${filePath}" is not below "${this.dirPath}"`, { op: 'git.attributes' });
    }
    const path = Buffer.from(filePath, 'utf8');
    const basenameOffset = path.lastIndexOf(SLASH) + 1;
    const fill: Fill = {
      values: new Array<Slot>(this.table.slots.size).fill(UNKNOWN),
      macros: this.table.macros,
      baseLeft: BASE_ATTRS.length,
    };
    // Deepest `.gitattributes` first, last line first. git goes on until every attribute it
    // knows is decided; stopping once the five that matter are decided gives the same answer.
    for (let f = this.frames.length - 1; f >= 0 && fill.baseLeft > 0; f--) {
      const frame = this.frames[f]!;
      for (let r = frame.rules.length - 1; r >= 0 && fill.baseLeft > 0; r--) {
        const rule = frame.rules[r]!;
        if (patternMatchesFile(rule.pattern, path, basenameOffset, frame.base)) fillOne(fill, rule.states);
      }
    }
    return fill.values;
  }
}

interface Fill {
  readonly values: Slot[];
  readonly macros: readonly (readonly CompiledState[] | undefined)[];
  /** How many of the BASE_ATTRS slots are still undecided. */
  baseLeft: number;
}

/**
 * attr.c fill_one: states right to left; the first value an attribute gets is final, and a
 * macro that becomes set expands on the spot (its own states, right to left, recursively).
 */
function fillOne(fill: Fill, states: readonly CompiledState[]): void {
  for (let i = states.length - 1; i >= 0; i--) {
    const s = states[i]!;
    if (fill.values[s.slot] !== UNKNOWN) continue;
    fill.values[s.slot] = s.value;
    if (s.slot < BASE_ATTRS.length) fill.baseLeft--;
    const expansion = fill.macros[s.slot];
    if (expansion && s.value === true) fillOne(fill, expansion);
  }
}

// convert.c: git_path_check_crlf / convert_attrs, with core.autocrlf=input and core.eol=lf.
enum Crlf {
  Undefined,
  Binary,
  Text,
  TextInput,
  TextCrlf,
  Auto,
  AutoInput,
  AutoCrlf,
}

function crlfFromValue(v: Slot | undefined): Crlf {
  if (v === true) return Crlf.Text;
  if (v === false) return Crlf.Binary;
  if (v === 'input') return Crlf.TextInput;
  if (v === 'auto') return Crlf.Auto;
  return Crlf.Undefined;
}

function decideFilter(values: readonly Slot[], filePath: string): ArchiveFilter | null {
  let action = crlfFromValue(values[A_TEXT]);
  if (action === Crlf.Undefined) action = crlfFromValue(values[A_CRLF]);
  if (action !== Crlf.Binary) {
    const eol = values[A_EOL];
    if (action === Crlf.Auto && eol === 'lf') action = Crlf.AutoInput;
    else if (action === Crlf.Auto && eol === 'crlf') action = Crlf.AutoCrlf;
    else if (eol === 'lf') action = Crlf.TextInput;
    else if (eol === 'crlf') action = Crlf.TextCrlf;
  }
  // text_eol_is_crlf() is false with autocrlf=input, and autocrlf=input makes "undefined" auto.
  if (action === Crlf.Text) action = Crlf.TextInput;
  if (action === Crlf.Undefined) action = Crlf.AutoInput;
  const eol = action === Crlf.TextCrlf ? 'crlf' : action === Crlf.AutoCrlf ? 'crlf-auto' : null;

  const ident = values[A_IDENT] === true;

  // git_path_check_encoding: unset, "-attr" and "" mean none; a bare "attr" kills git; UTF-8
  // (any case, with or without the dash) is the default encoding, so nothing to do.
  let workingTreeEncoding: string | undefined;
  const wte = values[A_WTE];
  if (wte === true) {
    throw new ArchiveAttributeError(
      filePath,
      `${filePath}: working-tree-encoding is set without a value (git: "true/false are no valid working-tree-encodings")`,
      { op: 'git.attributes' },
    );
  }
  if (typeof wte === 'string' && wte !== '' && !/^utf-?8$/i.test(wte)) workingTreeEncoding = wte;

  if (!ident && eol === null && workingTreeEncoding === undefined) return null;
  const filter: ArchiveFilter = { ident, eol };
  if (workingTreeEncoding !== undefined) filter.workingTreeEncoding = workingTreeEncoding;
  return filter;
}
