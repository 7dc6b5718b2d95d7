/**
 * The parts of golang.org/x/mod/modfile that a proxy needs, ported from x/mod v0.7.0:
 *
 * - `modulePath`: modfile.ModulePath, the forgiving line scanner cmd/go uses to find a go.mod's
 *   module path (coderepo.go findDir).
 * - `parseGoModLax`: the go.mod lexer and parser (read.go) plus the ParseLax rules (rule.go) for
 *   the directives a dependency's go.mod may use: module, go, require, retract. A go.mod that
 *   ParseLax rejects has no go version and no retractions as far as the go command is concerned,
 *   so the syntax errors matter as much as the values.
 * - the go/version comparisons behind the Go 1.24 zip vendor rule (golang.org/x/mod/zip
 *   `checkFiles` and go/version in the x/mod that Go 1.24 vendors).
 *
 * Input bytes are decoded as UTF-8 with replacement characters and without stripping a BOM, so
 * that a BOM stays an "unexpected input character", as in Go.
 */
import { canonicalVersion, checkPathMajor, goQuoteRune, InvalidVersionError, splitPathVersion } from './module-path.js';
import * as semver from './semver.js';
import { isPrint, isSpace } from './unicode-fold.js';

const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

function toText(goMod: Uint8Array | string): string {
  return typeof goMod === 'string' ? goMod : decoder.decode(goMod);
}

/** bytes.TrimSpace / strings.TrimSpace: trims Unicode white space (U+0085 and U+00A0 included). */
function goTrimSpace(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isSpace(s.charCodeAt(start))) {
    start++;
  }
  while (end > start && isSpace(s.charCodeAt(end - 1))) {
    end--;
  }
  return s.slice(start, end);
}

// ---------------------------------------------------------------------------------------------
// strconv.Unquote, for double-quoted and back-quoted strings (the two forms go.mod accepts).

const utf8Encoder = new TextEncoder();

function pushUtf8(out: number[], r: number): void {
  for (const b of utf8Encoder.encode(String.fromCodePoint(r))) {
    out.push(b);
  }
}

function unhex(c: string | undefined): number {
  if (c === undefined) {
    return -1;
  }
  const n = '0123456789abcdef'.indexOf(c.toLowerCase());
  return c.length === 1 ? n : -1;
}

/**
 * strconv.Unquote for "…" and `…`. Returns null where Go returns ErrSyntax. `\x` and octal
 * escapes yield raw bytes, as in Go; invalid UTF-8 that results is decoded to U+FFFD.
 */
export function goUnquote(s: string): string | null {
  if (s.length < 2) {
    return null;
  }
  const quote = s[0]!;
  const end = s.indexOf(quote, 1);
  if (end < 0) {
    return null;
  }
  if (quote === '`') {
    if (end !== s.length - 1) {
      return null;
    }
    return s.slice(1, end).replace(/\r/g, '');
  }
  if (quote !== '"') {
    return null;
  }
  const out: number[] = [];
  let i = 1;
  while (i < s.length && s[i] !== quote) {
    const c = s[i]!;
    if (c === '\n') {
      return null;
    }
    if (c !== '\\') {
      const r = s.codePointAt(i)!;
      pushUtf8(out, r >= 0xd800 && r <= 0xdfff ? 0xfffd : r);
      i += r > 0xffff ? 2 : 1;
      continue;
    }
    const e = s[i + 1];
    i += 2;
    switch (e) {
      case 'a':
        out.push(0x07);
        break;
      case 'b':
        out.push(0x08);
        break;
      case 'f':
        out.push(0x0c);
        break;
      case 'n':
        out.push(0x0a);
        break;
      case 'r':
        out.push(0x0d);
        break;
      case 't':
        out.push(0x09);
        break;
      case 'v':
        out.push(0x0b);
        break;
      case '\\':
        out.push(0x5c);
        break;
      case '"':
        out.push(0x22);
        break;
      case 'x':
      case 'u':
      case 'U': {
        const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
        let v = 0;
        for (let j = 0; j < n; j++) {
          const d = unhex(s[i + j]);
          if (d < 0) {
            return null;
          }
          v = v * 16 + d;
        }
        i += n;
        if (e === 'x') {
          out.push(v); // a single byte, possibly not UTF-8
        } else {
          if ((v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff) {
            return null;
          }
          pushUtf8(out, v);
        }
        break;
      }
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7': {
        let v = e.charCodeAt(0) - 0x30;
        for (let j = 0; j < 2; j++) {
          const c2 = s[i + j];
          if (c2 === undefined || c2 < '0' || c2 > '7') {
            return null;
          }
          v = v * 8 + (c2.charCodeAt(0) - 0x30);
        }
        i += 2;
        if (v > 255) {
          return null;
        }
        out.push(v);
        break;
      }
      default:
        return null; // includes \' inside "…" and a trailing backslash
    }
  }
  if (i !== s.length - 1 || s[i] !== quote) {
    return null;
  }
  return decoder.decode(Uint8Array.from(out));
}

// ---------------------------------------------------------------------------------------------
// modfile.ModulePath

/**
 * modfile.ModulePath: the path on the first `module` line, tolerating any other problem in the
 * file. `//` comments are cut, the path may be quoted. The block form is not understood (Go
 * returns "(" for `module (`, and so does this). Returns null where Go returns "" (no module
 * line, an empty path or a malformed quoted one).
 */
export function modulePath(goMod: Uint8Array | string): string | null {
  let mod = toText(goMod);
  while (mod.length > 0) {
    let line = mod;
    mod = '';
    const nl = line.indexOf('\n');
    if (nl >= 0) {
      mod = line.slice(nl + 1);
      line = line.slice(0, nl);
    }
    const comment = line.indexOf('//');
    if (comment >= 0) {
      line = line.slice(0, comment);
    }
    line = goTrimSpace(line);
    if (!line.startsWith('module')) {
      continue;
    }
    line = line.slice('module'.length);
    const n = line.length;
    line = goTrimSpace(line);
    if (line.length === n || line.length === 0) {
      continue; // "modulex", or "module" alone
    }
    if (line[0] === '"' || line[0] === '`') {
      const p = goUnquote(line);
      return p === null || p === '' ? null : p;
    }
    return line;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// The go.mod lexer and parser (modfile/read.go). Comments are lexed exactly as Go does but not
// attached to the syntax tree: nothing here needs them, and attaching them never fails.

interface Position {
  line: number;
  lineRune: number;
}

const T_EOF = -1;
const T_EOLCOMMENT = -2;
const T_IDENT = -3;
const T_STRING = -4;
const T_COMMENT = -5;
const NEWLINE = 0x0a;
const LPAREN = 0x28;
const RPAREN = 0x29;

interface Token {
  kind: number; // one of T_*, or the code of '\n' ( ) [ ] { } ,
  pos: Position;
  endPos: Position;
  text: string;
}

function isComment(kind: number): boolean {
  return kind === T_COMMENT || kind === T_EOLCOMMENT;
}

function isEOL(kind: number): boolean {
  return kind === T_EOF || kind === T_EOLCOMMENT || kind === NEWLINE;
}

interface SyntaxLine {
  start: Position;
  tokens: string[];
}

interface SyntaxBlock {
  start: Position;
  tokens: string[];
  lines: SyntaxLine[];
}

type Stmt = { kind: 'line'; line: SyntaxLine } | { kind: 'block'; block: SyntaxBlock };

/** Thrown inside the parser where Go panics with &in.parseErrors. */
class ParseAbort extends Error {}

/** modfile.Error.Error(): "file:line:col: " (col only when > 1), then "verb path: ", then the cause. */
function formatError(filename: string, pos: Position | null, message: string, verb = '', modPath = ''): string {
  let prefix = '';
  if (pos !== null && pos.lineRune > 1) {
    prefix = `${filename}:${pos.line}:${pos.lineRune}: `;
  } else if (pos !== null && pos.line > 0) {
    prefix = `${filename}:${pos.line}: `;
  } else if (filename !== '') {
    prefix = `${filename}: `;
  }
  let directive = '';
  if (modPath !== '') {
    directive = `${verb} ${modPath}: `;
  } else if (verb !== '') {
    directive = `${verb}: `;
  }
  return prefix + directive + message;
}

function isIdentRune(c: number): boolean {
  switch (c) {
    case 0x20:
    case 0x28:
    case 0x29:
    case 0x5b:
    case 0x5d:
    case 0x7b:
    case 0x7d:
    case 0x2c:
      return false;
    default:
      return !isSpace(c) && isPrint(c);
  }
}

class Input {
  private readonly src: string;
  private i = 0;
  private tokenStart = 0;
  private pos: Position = { line: 1, lineRune: 1 };
  private token: Token = { kind: T_EOF, pos: { line: 1, lineRune: 1 }, endPos: { line: 1, lineRune: 1 }, text: '' };
  readonly stmts: Stmt[] = [];
  readonly errors: string[] = [];

  constructor(
    private readonly filename: string,
    src: string,
  ) {
    this.src = src;
  }

  /** modfile.parse: fills `stmts`, or records the one syntax error Go reports. */
  run(): void {
    try {
      this.readToken();
      this.parseFile();
    } catch (e) {
      if (!(e instanceof ParseAbort)) {
        this.errors.push(formatError(this.filename, this.pos, `internal error: ${String(e)}`));
      }
    }
  }

  private error(s: string): never {
    this.errors.push(formatError(this.filename, this.pos, s));
    throw new ParseAbort(s);
  }

  private eof(): boolean {
    return this.i >= this.src.length;
  }

  private peekRune(): number {
    if (this.eof()) {
      return 0;
    }
    const r = this.src.codePointAt(this.i)!;
    return r >= 0xd800 && r <= 0xdfff ? 0xfffd : r;
  }

  private peekPrefix(prefix: string): boolean {
    return this.src.startsWith(prefix, this.i);
  }

  private readRune(): number {
    if (this.eof()) {
      this.error('internal lexer error: readRune at EOF');
    }
    const r = this.src.codePointAt(this.i)!;
    this.i += r > 0xffff ? 2 : 1;
    if (r === NEWLINE) {
      this.pos = { line: this.pos.line + 1, lineRune: 1 };
    } else {
      this.pos = { line: this.pos.line, lineRune: this.pos.lineRune + 1 };
    }
    return r >= 0xd800 && r <= 0xdfff ? 0xfffd : r;
  }

  private startToken(): void {
    this.tokenStart = this.i;
    this.token = { kind: T_EOF, pos: this.pos, endPos: this.pos, text: '' };
  }

  private endToken(kind: number): void {
    let text = this.src.slice(this.tokenStart, this.i);
    if (isComment(kind)) {
      if (text.endsWith('\r\n')) {
        text = text.slice(0, -2);
      } else if (text.endsWith('\n')) {
        text = text.slice(0, -1);
      }
    }
    this.token = { kind, pos: this.token.pos, endPos: this.pos, text };
  }

  private peek(): number {
    return this.token.kind;
  }

  private lex(): Token {
    const tok = this.token;
    this.readToken();
    return tok;
  }

  private readToken(): void {
    while (!this.eof()) {
      const c = this.peekRune();
      if (c === 0x20 || c === 0x09 || c === 0x0d) {
        this.readRune();
        continue;
      }
      if (this.peekPrefix('//')) {
        this.startToken();
        // A comment alone on its line goes to the parser; one after code is a suffix.
        const lineStart = this.src.lastIndexOf('\n', this.i - 1) + 1;
        const suffix = goTrimSpace(this.src.slice(lineStart, this.i)).length > 0;
        this.readRune();
        this.readRune();
        while (!this.eof() && this.readRune() !== NEWLINE) {
          // consume the comment
        }
        this.endToken(suffix ? T_EOLCOMMENT : T_COMMENT);
        return;
      }
      if (this.peekPrefix('/*')) {
        this.error('mod files must use // comments (not /* */ comments)');
      }
      break;
    }

    this.startToken();
    if (this.eof()) {
      this.endToken(T_EOF);
      return;
    }

    const c = this.peekRune();
    switch (c) {
      case NEWLINE:
      case LPAREN:
      case RPAREN:
      case 0x5b:
      case 0x5d:
      case 0x7b:
      case 0x7d:
      case 0x2c:
        this.readRune();
        this.endToken(c);
        return;
      case 0x22:
      case 0x60: {
        const quote = c;
        this.readRune();
        for (;;) {
          if (this.eof()) {
            this.pos = this.token.pos;
            this.error('unexpected EOF in string');
          }
          if (this.peekRune() === NEWLINE) {
            this.error('unexpected newline in string');
          }
          const d = this.readRune();
          if (d === quote) {
            break;
          }
          if (d === 0x5c && quote !== 0x60) {
            if (this.eof()) {
              this.pos = this.token.pos;
              this.error('unexpected EOF in string');
            }
            this.readRune();
          }
        }
        this.endToken(T_STRING);
        return;
      }
    }

    if (!isIdentRune(c)) {
      this.error(`unexpected input character ${goQuoteRune(c)}`);
    }
    while (isIdentRune(this.peekRune())) {
      if (this.peekPrefix('//')) {
        break;
      }
      if (this.peekPrefix('/*')) {
        this.error('mod files must use // comments (not /* */ comments)');
      }
      this.readRune();
    }
    this.endToken(T_IDENT);
  }

  private parseFile(): void {
    for (;;) {
      switch (this.peek()) {
        case NEWLINE:
        case T_COMMENT:
          this.lex();
          break;
        case T_EOF:
          return;
        default:
          this.parseStmt();
      }
    }
  }

  private parseStmt(): void {
    const first = this.lex();
    const start = first.pos;
    const tokens = [first.text];
    for (;;) {
      const tok = this.lex();
      if (isEOL(tok.kind)) {
        this.stmts.push({ kind: 'line', line: { start, tokens } });
        return;
      }
      if (tok.kind === LPAREN) {
        const next = this.peek();
        if (isEOL(next)) {
          // Start of a block: nothing else may follow on this line.
          this.stmts.push({ kind: 'block', block: this.parseLineBlock(start, tokens) });
          return;
        } else if (next === RPAREN) {
          const rparen = this.lex();
          if (isEOL(this.peek())) {
            this.lex(); // empty block
            this.stmts.push({ kind: 'block', block: { start, tokens, lines: [] } });
            return;
          }
          tokens.push(tok.text, rparen.text); // "( )" in the middle of a line
        } else {
          tokens.push(tok.text); // "(" in the middle of a line
        }
        continue;
      }
      tokens.push(tok.text);
    }
  }

  private parseLineBlock(start: Position, tokens: string[]): SyntaxBlock {
    const block: SyntaxBlock = { start, tokens, lines: [] };
    for (;;) {
      switch (this.peek()) {
        case T_EOLCOMMENT:
        case NEWLINE:
        case T_COMMENT:
          this.lex();
          break;
        case T_EOF:
          return this.error(`syntax error (unterminated block started at ${this.filename}:${start.line}:${start.lineRune})`);
        case RPAREN:
          this.lex();
          if (!isEOL(this.peek())) {
            this.error('syntax error (expected newline after closing paren)');
          }
          this.lex();
          return block;
        default:
          block.lines.push(this.parseLine());
      }
    }
  }

  private parseLine(): SyntaxLine {
    const first = this.lex();
    if (isEOL(first.kind)) {
      this.error('internal parse error: parseLine at end of line');
    }
    const tokens = [first.text];
    for (;;) {
      const tok = this.lex();
      if (isEOL(tok.kind)) {
        return { start: first.pos, tokens };
      }
      tokens.push(tok.text);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// ParseLax (modfile/rule.go parseToFile with strict = false).

/** A `retract` interval: a single version has low === high. Not canonicalised (Go does not). */
export interface VersionInterval {
  low: string;
  high: string;
}

export interface GoModRequire {
  path: string;
  version: string;
}

/** What modfile.ParseLax keeps of a dependency's go.mod. */
export interface LaxGoMod {
  /** The `module` path; null without a usable module statement. */
  module: string | null;
  /** The `go` directive as ParseLax stores it (see `GoModParseOptions.xmod`); null if absent. */
  go: string | null;
  require: GoModRequire[];
  retract: VersionInterval[];
}

export interface GoModParseOptions {
  /**
   * Which x/mod's go-version pattern to apply. Both accept the same lines in lax mode, but
   * v0.7.0 (Go 1.19) trims every accepted value to "1.N" ("1.21.0" → "1.21"), while newer x/mod
   * (the one Go 1.24's zip code uses) keeps "1.21.0" and "1.21rc1". Defaults to 'latest'.
   */
  xmod?: 'v0.7' | 'latest';
  /** File name used in error messages. Defaults to "go.mod". */
  filename?: string;
}

/** The errors that made modfile.ParseLax fail; `message` is Go's ErrorList text. */
export class GoModParseError extends Error {
  readonly errors: readonly string[];
  constructor(errors: string[]) {
    super(errors.join('\n'));
    this.name = 'GoModParseError';
    this.errors = errors;
  }
}

const GO_VERSION_RE_V07 = /^([1-9][0-9]*)\.(0|[1-9][0-9]*)$/;
const GO_VERSION_RE_LATEST = /^([1-9][0-9]*)\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))?([a-z]+[0-9]+)?$/;
// Go's `.` does not match "\n"; tokens never contain one, so JavaScript's `.` is equivalent.
const LAX_GO_VERSION_RE = /^v?(([1-9][0-9]*)\.(0|[1-9][0-9]*))([^0-9].*)$/u;

/** modfile.parseString: unquotes "…" tokens; any other quote character is an error. Returns [value] or [null, reason]. */
function parseString(t: string): [string, null] | [null, string] {
  if (t.startsWith('"')) {
    const u = goUnquote(t);
    return u === null ? [null, 'invalid syntax'] : [u, null];
  }
  if (/["'`]/.test(t)) {
    return [null, 'unquoted string cannot contain quote'];
  }
  return [t, null];
}

/**
 * modfile.ParseLax(filename, data, nil): parses a dependency's go.mod the way the go command
 * does (unknown directives and main-module-only ones are ignored). Throws a GoModParseError
 * where Go returns an error.
 */
export function parseGoModLax(goMod: Uint8Array | string, options: GoModParseOptions = {}): LaxGoMod {
  const filename = options.filename ?? 'go.mod';
  const goVersionRE = options.xmod === 'v0.7' ? GO_VERSION_RE_V07 : GO_VERSION_RE_LATEST;
  const input = new Input(filename, toText(goMod));
  input.run();
  if (input.errors.length > 0) {
    throw new GoModParseError(input.errors);
  }

  const result: LaxGoMod = { module: null, go: null, require: [], retract: [] };
  const errors: string[] = [];
  let haveModule = false;

  const add = (line: SyntaxLine, verb: string, args: string[]): void => {
    const errorf = (message: string, directiveVerb = '', modPath = ''): void => {
      errors.push(formatError(filename, line.start, message, directiveVerb, modPath));
    };
    switch (verb) {
      case 'go': {
        if (result.go !== null) {
          errorf('repeated go statement');
          return;
        }
        if (args.length !== 1) {
          errorf('go directive expects exactly one argument');
          return;
        }
        let v = args[0]!;
        if (!goVersionRE.test(v)) {
          const m = LAX_GO_VERSION_RE.exec(v);
          if (m === null) {
            errorf(`invalid go version '${v}': must match format 1.23`);
            return;
          }
          v = m[1]!;
        }
        result.go = v;
        return;
      }
      case 'module': {
        if (haveModule) {
          errorf('repeated module statement');
          return;
        }
        haveModule = true;
        if (args.length !== 1) {
          errorf('usage: module module/path');
          return;
        }
        const [s, err] = parseString(args[0]!);
        if (s === null) {
          errorf(`invalid quoted string: ${err}`);
          return;
        }
        result.module = s;
        return;
      }
      case 'require': {
        if (args.length !== 2) {
          errorf(`usage: ${verb} module/path v1.2.3`);
          return;
        }
        const [s, err] = parseString(args[0]!);
        if (s === null) {
          errorf(`invalid quoted string: ${err}`);
          return;
        }
        // modfile.parseVersion with fix == nil: any valid semver, stored canonical.
        const raw = args[1]!;
        const [t, verr] = parseString(raw);
        if (t === null) {
          errorf(new InvalidVersionError(raw, verr).message, verb, s);
          return;
        }
        const cv = canonicalVersion(t);
        if (cv === '') {
          errorf(new InvalidVersionError(t, 'must be of the form v1.2.3').message, verb, s);
          return;
        }
        const split = splitPathVersion(s);
        if (!split.ok) {
          errorf('invalid module path');
          return;
        }
        const majorErr = checkPathMajor(cv, split.pathMajor);
        if (majorErr !== null) {
          errorf(majorErr.message, verb, s);
          return;
        }
        result.require.push({ path: s, version: cv });
        return;
      }
      case 'retract': {
        // Lax mode drops a retract it cannot parse instead of failing the file.
        const vi = parseVersionInterval(args);
        if (vi !== null) {
          result.retract.push(vi);
        }
        return;
      }
      default:
        return; // lax mode ignores every other directive
    }
  };

  for (const stmt of input.stmts) {
    if (stmt.kind === 'line') {
      const { line } = stmt;
      add(line, line.tokens[0]!, line.tokens.slice(1));
      continue;
    }
    const { block } = stmt;
    if (block.tokens.length > 1) {
      continue; // "require foo (" is an unknown block type; ignored in lax mode
    }
    switch (block.tokens[0]) {
      case 'module':
      case 'require':
      case 'exclude':
      case 'replace':
      case 'retract':
        for (const line of block.lines) {
          add(line, block.tokens[0], line.tokens);
        }
        break;
      default:
        break;
    }
  }
  if (errors.length > 0) {
    throw new GoModParseError(errors);
  }
  return result;
}

/**
 * modfile.parseVersionInterval with the dontFixRetract fixer that ParseLax uses for retract:
 * versions are only unquoted, not validated or canonicalised. Trailing tokens are allowed in
 * lax mode. Null where Go reports an error.
 */
function parseVersionInterval(toks: string[]): VersionInterval | null {
  if (toks.length === 0 || toks[0] === '(') {
    return null;
  }
  if (toks[0] !== '[') {
    const [v] = parseString(toks[0]!);
    return v === null ? null : { low: v, high: v };
  }
  if (toks.length < 5 || toks[2] !== ',' || toks[4] !== ']') {
    return null;
  }
  const [low] = parseString(toks[1]!);
  const [high] = parseString(toks[3]!);
  if (low === null || high === null) {
    return null;
  }
  return { low, high };
}

/**
 * The `go` line of a go.mod as Go 1.24's zip code sees it (x/mod zip parseGoVers:
 * modfile.ParseLax, latest x/mod): null when the line is missing or the file does not parse.
 */
export function goVersion(goMod: Uint8Array | string): string | null {
  try {
    return parseGoModLax(goMod).go;
  } catch (e) {
    if (e instanceof GoModParseError) {
      return null;
    }
    throw e;
  }
}

/**
 * The retract intervals of a go.mod as cmd/go reads them (codeRepo.retractedVersions:
 * modfile.ParseLax). A go.mod that does not parse retracts nothing: the go command ignores
 * retractions it cannot load.
 */
export function retractions(goMod: Uint8Array | string): VersionInterval[] {
  try {
    return parseGoModLax(goMod, { xmod: 'v0.7' }).retract;
  } catch (e) {
    if (e instanceof GoModParseError) {
      return [];
    }
    throw e;
  }
}

/** Whether `version` lies in any interval (inclusive, semver order), as codeRepo.retractedVersions checks. */
export function isRetracted(version: string, intervals: readonly VersionInterval[]): boolean {
  return intervals.some((r) => semver.compare(r.low, version) <= 0 && semver.compare(version, r.high) <= 0);
}

// ---------------------------------------------------------------------------------------------
// go/version (internal/gover): Go toolchain versions like 1.21, 1.21.0, 1.21rc1.

interface GoVersion {
  major: string;
  minor: string;
  patch: string;
  kind: string;
  pre: string;
}

const ZERO_GO_VERSION: GoVersion = { major: '', minor: '', patch: '', kind: '', pre: '' };

function cutInt(x: string): [string, string] | null {
  let i = 0;
  while (i < x.length && x[i]! >= '0' && x[i]! <= '9') {
    i++;
  }
  if (i === 0 || (x[0] === '0' && i !== 1)) {
    return null;
  }
  return [x.slice(0, i), x.slice(i)];
}

function cmpInt(x: string, y: string): number {
  if (x === y) {
    return 0;
  }
  if (x.length !== y.length) {
    return x.length < y.length ? -1 : 1;
  }
  return x < y ? -1 : 1;
}

function parsePreRelease(x: string): [string, string] | null {
  let i = 0;
  while (i < x.length && (x[i]! < '0' || x[i]! > '9')) {
    if (x[i]! < 'a' || x[i]! > 'z') {
      return null;
    }
    i++;
  }
  if (i === 0) {
    return null;
  }
  const kind = x.slice(0, i);
  const rest = x.slice(i);
  if (rest === '') {
    return [kind, ''];
  }
  const n = cutInt(rest);
  if (n === null || n[1] !== '') {
    return null;
  }
  return [kind, n[0]];
}

/** gover.Parse (without the "go" prefix); the zero version when malformed. */
function parseGoVersion(x: string): GoVersion {
  const v: GoVersion = { ...ZERO_GO_VERSION };
  let c = cutInt(x);
  if (c === null) {
    return ZERO_GO_VERSION;
  }
  [v.major, x] = c;
  if (x === '') {
    v.minor = '0';
    v.patch = '0';
    return v;
  }
  if (x[0] !== '.') {
    return ZERO_GO_VERSION;
  }
  c = cutInt(x.slice(1));
  if (c === null) {
    return ZERO_GO_VERSION;
  }
  [v.minor, x] = c;
  if (x === '') {
    // Before Go 1.21 a missing patch meant .0; from 1.21 on "1.21" is the language version.
    if (cmpInt(v.minor, '21') < 0) {
      v.patch = '0';
    }
    return v;
  }
  if (x[0] === '.') {
    c = cutInt(x.slice(1));
    if (c === null) {
      return ZERO_GO_VERSION;
    }
    [v.patch, x] = c;
    if (x !== '') {
      const pre = parsePreRelease(x);
      if (pre === null) {
        return ZERO_GO_VERSION;
      }
      [v.kind, v.pre] = pre;
    }
    return v;
  }
  const pre = parsePreRelease(x);
  if (pre === null) {
    return ZERO_GO_VERSION;
  }
  [v.kind, v.pre] = pre;
  return v;
}

/** gover.Compare: 1.21 < 1.21rc1 < 1.21.0; malformed versions are lowest and equal. */
function compareGover(x: string, y: string): number {
  const vx = parseGoVersion(x);
  const vy = parseGoVersion(y);
  let c = cmpInt(vx.major, vy.major) || cmpInt(vx.minor, vy.minor) || cmpInt(vx.patch, vy.patch);
  if (c !== 0) {
    return c;
  }
  if (vx.kind !== vy.kind) {
    c = vx.kind < vy.kind ? -1 : 1; // "" < alpha < beta < rc
    if (vx.patch !== '') {
      // For patch releases the release itself is last: alpha < beta < rc < "".
      if (vx.kind === '') {
        c = 1;
      } else if (vy.kind === '') {
        c = -1;
      }
    }
    return c;
  }
  return cmpInt(vx.pre, vy.pre);
}

function stripGo(v: string): string {
  return v.startsWith('go') ? v.slice(2) : '';
}

/** go/version.Lang: "go1.21rc2" → "go1.21", "go1.21.2" → "go1.21"; "" if invalid. */
export function goLang(x: string): string {
  const p = parseGoVersion(stripGo(x));
  const v = p.minor === '' || (p.major === '1' && p.minor === '0') ? p.major : `${p.major}.${p.minor}`;
  if (v === '') {
    return '';
  }
  return x.slice(2).startsWith(v) ? x.slice(0, 2 + v.length) : 'go' + v;
}

/** go/version.Compare on "go"-prefixed versions. */
export function compareGoVersions(x: string, y: string): number {
  return compareGover(stripGo(x), stripGo(y));
}

/**
 * Whether a go.mod `go` line (as returned by `goVersion`) selects language version `min` or
 * later, the test x/mod zip makes for the vendor rule: version.Compare(version.Lang("go" +
 * line), "go" + min) >= 0. So "1.24", "1.24.0" and "1.24rc1" are at least 1.24; "1.23.9" and
 * a missing line (null) are not.
 */
export function goLangAtLeast(goLine: string | null, min: string): boolean {
  if (goLine === null) {
    return false;
  }
  return compareGoVersions(goLang('go' + goLine), 'go' + min) >= 0;
}
