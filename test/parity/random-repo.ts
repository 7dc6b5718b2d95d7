/**
 * Seeded, reproducible generator of random git repositories (as {@link RepoSpec}s for
 * `test/helpers/fixtures.ts`) and of the (module path, query) pairs to check on them, for the
 * randomized parity test of issue 3: every generated repository is served by our proxy and read by
 * `go` in direct mode, and the answers must be identical (go-modules.md §3, §4, §6, §7).
 *
 * `generateRepo(seed, index)` depends only on its arguments, so one repository of a large run can be
 * rebuilt alone (`run-parity --seed S --only I`).
 *
 * What a repository can contain (each feature is chosen at random, see {@link GeneratedRepo.features}):
 * - a root module, no root go.mod at all (legacy tags → `+incompatible`), or one added later;
 * - nested modules (`sub/go.mod`, `a/b/go.mod`, `tools/x/go.mod`, `lib/go.mod`), `/vN` majors in both
 *   layouts (root go.mod switched to `/v2` on a branch or on main, and `v2/`, `sub/v2/` directories),
 *   a tagged directory without go.mod, a non-module directory;
 * - vendor trees (go lines < 1.24 only: Go 1.19 knows only the old rule), symlinks (files, dirs,
 *   LICENSE, go.mod), gitlinks, LICENSE at the root / in a module / missing / as a symlink or a dir;
 * - `.gitattributes` at several depths (text, -text, text=auto, eol=crlf, crlf, -crlf, binary,
 *   ident, export-ignore, export-subst, macros, filter=lfs without a driver, quoted and anchored
 *   patterns) and file contents that stress git's conversion (CRLF, mixed, lone CR, NUL late in the
 *   file, control characters, `$Id$` variants, `$Format:…$`);
 * - non-ASCII file names, occasionally invalid ones (`a:b.go`, `aux.go`, case-fold collisions,
 *   combining marks) so that both sides must fail, root `.hg_archival.txt`, `testdata/go.mod`,
 *   directories named `go.mod`, `GO.MOD` in a subdirectory;
 * - tags on several majors, prefixed tags (`sub/v1.2.3`), pre-releases (also upper-case), `+meta`,
 *   non-canonical (`v1.2`, `v01.4.0`), pseudo-version-shaped tags, tags named like a branch or like
 *   a hash, annotated and lightweight tags, tags on side branches, retract directives;
 * - several branches (upper-case names, version-like names), merges, a default branch other than
 *   `main`, an unborn default branch, a commit reachable only from `refs/pull/…`, one reachable
 *   only from a tag, an empty-tree commit, committer dates with non-UTC offsets (and the odd clock
 *   skew);
 * - `working-tree-encoding` (the UTF-16/UTF-32/ISO-8859-1/ASCII families, with and without eol
 *   conversion, and without a value so that git archive fails) on valid, invalid and truncated
 *   UTF-8 and on characters the target encoding cannot represent.
 */
import type { BuiltRepo, CommitSpec, EntrySpec, RepoSpec, TagSpec } from '../helpers/fixtures.js';
import { DEFAULT_ORG, MODULE_HOST, pseudoTimestamp } from '../helpers/fixtures.js';

// ------------------------------------------------------------------------------------------------
// random numbers

/** Small, fast, seedable PRNG (sfc32), seeded from a string through xmur3. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seedText: string) {
    let h = 1779033703 ^ seedText.length;
    for (let i = 0; i < seedText.length; i++) {
      h = Math.imul(h ^ seedText.charCodeAt(i), 3432918353);
      h = (h << 13) | (h >>> 19);
    }
    const next = () => {
      h = Math.imul(h ^ (h >>> 16), 2246822507);
      h = Math.imul(h ^ (h >>> 13), 3266489909);
      return (h ^= h >>> 16) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 15; i++) this.float();
  }

  /** Uniform in [0, 1). */
  float(): number {
    this.a >>>= 0;
    this.b >>>= 0;
    this.c >>>= 0;
    this.d >>>= 0;
    let t = (this.a + this.b) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.d = (this.d + 1) | 0;
    t = (t + this.d) | 0;
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.float() * items.length)]!;
  }

  /** Up to `k` distinct items, in random order. */
  sample<T>(items: readonly T[], k: number): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(this.float() * (i + 1));
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy.slice(0, Math.max(0, k));
  }

  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[this.int(0, 15)];
    return s;
  }
}

// ------------------------------------------------------------------------------------------------
// public types

/** A query before the repository is built: commit ids are only known afterwards. */
export type QuerySpec =
  | { module: string; kind: 'literal'; query: string; why: string }
  /** A hex prefix of a commit id (`upper` → upper-case, which go must refuse). */
  | { module: string; kind: 'hash'; label: string; length: number; upper?: boolean; why: string }
  /**
   * A pseudo-version for a commit: `<head><timestamp>-<12 hex><tail>`, e.g. head `v1.2.4-0.` or
   * `v0.0.0-`. `tweak` makes it invalid on purpose (wrong time, short or long revision).
   */
  | {
      module: string;
      kind: 'pseudo';
      label: string;
      head: string;
      tail: string;
      tweak?: 'time' | 'short' | 'long';
      why: string;
    };

export interface ResolvedQuery {
  /** Full module path, e.g. `github.com/testorg/rp0007/sub/v2`. */
  module: string;
  query: string;
  /** Why this query is there (for reports). */
  why: string;
}

export interface GeneratedRepo {
  seed: number;
  index: number;
  /** Repository (= project) name; the module path is `github.com/testorg/<name>`. */
  name: string;
  spec: RepoSpec;
  /** Human-readable list of what this repository exercises. */
  features: string[];
  /** Full module paths to check (`go list -m -versions` and downloads). */
  modules: string[];
  /** Queries known before building; the runner adds every listed version. */
  queries: QuerySpec[];
}

// ------------------------------------------------------------------------------------------------
// model

interface Slot {
  /** Directory holding the go.mod ('' for the root). */
  loc: string;
  /** Module path suffix declared in the go.mod ('' root, 'sub', 'v2', 'sub/v2'). */
  suffix: string;
  /** `go` line, '' for none (always < 1.24: Go 1.19 only knows the old vendor rule). */
  goLine: string;
  /** go.mod formatting style. */
  style: number;
  retracts: string[];
  /** Declares a different module path (same major): findDir only checks the major. */
  mismatch: boolean;
}

interface State {
  files: Map<string, EntrySpec>;
  slots: Slot[];
  /** Root has tags but no go.mod (legacy, `+incompatible`). */
  legacyRoot: boolean;
  /** Major used for new legacy root tags. */
  legacyMajor: number;
}

interface Commit {
  label: string;
  branch: string;
  parents: string[];
  date: string;
  tree: Record<string, EntrySpec>;
  tags: TagSpec[];
  state: State;
}

const OFFSETS = ['Z', '+02:00', '-07:00', '+05:30', '-03:30', '+14:00', '-12:00', '+01:00', '-05:00', '+09:45'];
const SUB_DIRS = ['sub', 'a/b', 'tools/x', 'lib'];
/** All < 1.24 (Go 1.19 only knows the old vendor rule); `1.9` and `1.3` sort after `1.24` as strings. */
const GO_LINES = [
  '',
  '',
  '1.12',
  '1.13',
  '1.16',
  '1.17',
  '1.18',
  '1.19',
  '1.20',
  '1.21',
  '1.23',
  '1.9',
  '1.3',
  '1.21.0',
  '1.23rc1',
  '1.22.5',
];
const BRANCH_NAMES = ['dev', 'feature-x', 'release-1.x', 'hotfix_2', 'Feature', 'next', 'v9.9.9', 'v1'];
const PRERELEASES = ['rc.1', 'rc.2', 'beta.1', 'alpha', 'RC1', 'pre', 'beta', 'rc.10', '0.pre'];

const MODULE_NAMES_NONASCII = [
  'é.txt',
  '𝐀.txt',
  'Ｂ.txt',
  'ü/ñ.go',
  '日本語.txt',
  'Ωmega.md',
  'ß.txt',
  'ﬁle.txt',
  'a b.txt',
  'file~1.go',
  '.hidden',
  '-dash.txt',
];
/** Names that make Go's zip creation fail (so both sides must fail for the affected versions). */
const INVALID_NAME_SETS: Array<Record<string, EntrySpec>> = [
  { 'a:b.go': 'package x\n' },
  { 'aux.go': 'package x\n' },
  { 'README.md': 'x\n', 'Readme.md': 'y\n' },
  { 'ａ.txt': 'a\n', 'Ａ.txt': 'b\n' },
  { 'a*b': 'x\n' },
  { 'e\u0301.txt': 'combining mark\n' },
  { 'q"uote.txt': 'x\n' },
  { 'k.txt': 'x\n', '\u212a.txt': 'kelvin\n' },
  { 'pkg/COM1.go': 'package pkg\n' },
  { 'dir.': 'x\n' },
  { 'back\\slash.txt': 'x\n' },
  { 'new\nline.txt': 'x\n' },
];

// ------------------------------------------------------------------------------------------------
// contents

const enc = (s: string): Uint8Array => Buffer.from(s, 'utf8');

function lateNul(rng: Rng): Uint8Array {
  const n = rng.int(8100, 9000);
  const bytes = Buffer.alloc(n + 4, 'x');
  for (let i = 79; i < n; i += 80) bytes[i] = 0x0a;
  bytes[n] = 0;
  bytes[n + 1] = 0x0a;
  bytes[n + 2] = 0x79;
  bytes[n + 3] = 0x0a;
  return bytes;
}

/** A file body picked to stress git's eol / ident / binary detection. */
function zooContent(rng: Rng): { content: EntrySpec; kind: string } {
  const kinds: Array<[string, () => EntrySpec]> = [
    ['lf', () => 'line1\nline2\n'],
    ['crlf', () => 'line1\r\nline2\r\n'],
    ['mixed', () => 'a\r\nb\nc\r\n'],
    ['lone-cr', () => 'a\rb\n'],
    ['no-eol', () => 'x'],
    ['trailing-cr', () => 'abc\r'],
    ['empty', () => ''],
    ['binary', () => new Uint8Array([0x00, 0x01, 0x0a, 0x02, 0x0a, 0xff, 0x0d, 0x0a])],
    ['late-nul', () => lateNul(rng)],
    ['control', () => enc('\x01\x02\x03\x04\x05\x06\x07\x0e\x0fa\nb\n')],
    ['ctrl-z', () => enc('text\n\x1a')],
    ['escape', () => enc('\x1b[1mbold\x1b[0m\n\ttab\n\x0cpage\n')],
    ['bom', () => '\ufeffhello\nworld\n'],
    ['ident', () => '$Id$\n'],
    ['ident2', () => 'x $Id: old value $ y\n$Id$ and $Id$\n$Id\n'],
    ['ident-crlf', () => '$Id$\r\nnext\r\n'],
    ['subst', () => 'commit $Format:%H$\n'],
    ['utf8', () => 'héllo wörld ✓\n'],
    ['latin1-range', () => 'café ñ ü\r\nß\n'],
    ['emoji', () => 'smile 😀 𝐀\n'],
    ['invalid-utf8', () => new Uint8Array([0x61, 0xc3, 0x28, 0x0a, 0xff, 0xfe, 0x0a])],
    ['truncated-utf8', () => new Uint8Array([0x61, 0x0a, 0xe2, 0x82])],
    ['exec', () => ({ content: '#!/bin/sh\necho hi\n', executable: true })],
  ];
  const [kind, make] = rng.pick(kinds);
  return { content: make(), kind };
}

/** File names matched by the attribute rules below (plus some that match none). */
const ZOO_NAMES = [
  'f.txt',
  'g.md',
  'h.dat',
  'i.bin',
  'j.crlf',
  'k.nocrlf',
  'ident.txt',
  'l.id',
  'subst.txt',
  'rootonly.txt',
  'm.ct',
  'a b.txt',
  'N.TXT',
  'o.auto',
  'p.lfs',
  'q.go',
  'r.sh',
  's.lf',
  't',
  'u.input',
  'w.u16',
  'x.u16be',
  'y.u32',
  'z.latin',
  'aa.ascii',
  'bb.wte',
  'cc.u16bom',
  'fa.txt',
  '#hash.txt',
  'T.Txt',
];
const ZOO_DIRS = ['', '', 'pkg', 'docs', 'pkg/deep', 'deep', 'x/y/deep'];

const ROOT_ATTR_RULES = [
  '* text=auto',
  '* text=auto eol=crlf',
  '* text eol=crlf',
  '*.txt text eol=crlf',
  '*.txt eol=crlf',
  '*.txt -text',
  '*.txt !eol',
  '*.txt text eol=lf',
  '*.go text',
  '*.go eol=crlf',
  '*.md -text',
  '*.md text=auto eol=crlf',
  '*.dat binary',
  '*.bin -text',
  '*.crlf crlf',
  '*.nocrlf -crlf',
  '*.auto crlf=auto eol=crlf',
  '*.input crlf=input',
  '*.lf eol=lf',
  'ident.txt ident',
  '*.id ident eol=crlf',
  '*.txt ident',
  'docs/** export-ignore',
  'docs export-ignore',
  'subst.txt export-subst',
  '*.txt export-subst',
  'pkg/*.txt eol=crlf',
  '**/deep/*.txt text eol=crlf',
  '**/deep/** ident',
  '/rootonly.txt eol=crlf',
  '[attr]crlftext text eol=crlf',
  '*.ct crlftext',
  '*.lfs filter=lfs diff=lfs merge=lfs -text',
  '"a b.txt" eol=crlf',
  '*.TXT eol=crlf',
  't eol=crlf',
  '*.sh eol=crlf',
  'go.mod eol=crlf',
  'LICENSE eol=crlf',
  'LICENSE ident',
  '.gitattributes eol=crlf',
  '*.u16 working-tree-encoding=UTF-16LE',
  '*.u16 working-tree-encoding=utf-16 eol=crlf',
  '*.u16be working-tree-encoding=UTF16BE',
  '*.u32 working-tree-encoding=UTF-32',
  '*.u32 working-tree-encoding=utf-32be text',
  '*.latin working-tree-encoding=ISO-8859-1',
  '*.latin working-tree-encoding=latin1 eol=crlf',
  '*.ascii working-tree-encoding=US-ASCII',
  '*.u16bom working-tree-encoding=UTF-16BE-BOM',
  '*.txt working-tree-encoding=UTF-16',
  '*.wte working-tree-encoding',
  '*.[tT][xX][tT] eol=crlf',
  'f?.txt ident',
  'x/**/deep/*.txt eol=crlf',
  'deep/ eol=crlf',
  '!*.md text',
  '\\#hash.txt eol=crlf',
  '*.txt binary',
  '*.go -text crlf',
  '[attr]nested-ignored text',
  '# a comment line',
  '',
];

const NESTED_ATTR_RULES = [
  '* -text',
  '* eol=crlf',
  '* text=auto eol=crlf',
  '*.txt -text',
  '*.txt text eol=crlf',
  'ident.txt -ident',
  '*.go ident',
  '*.md eol=crlf',
  'deep/*.txt -text',
  '/f.txt eol=crlf',
  '** ident',
  'go.mod text eol=crlf',
  '*.u16 -working-tree-encoding',
  '*.latin working-tree-encoding=UTF-32LE',
  '*.txt working-tree-encoding=iso8859-1',
  '[attr]nomacro eol=crlf',
  '*.txt nomacro',
  '**/*.txt eol=crlf',
];

// ------------------------------------------------------------------------------------------------
// generator

export function repoName(index: number, seed: number, upper: boolean): string {
  const base = `rp${seed}x${String(index).padStart(4, '0')}`;
  return upper ? base.replace(/^rp/, 'Rp') : base;
}

/** Builds the spec and queries of repository `index` of run `seed`. */
export function generateRepo(seed: number, index: number): GeneratedRepo {
  return new Generator(seed, index).generate();
}

class Generator {
  private readonly rng: Rng;
  private readonly features = new Set<string>();
  private readonly commits: Commit[] = [];
  private readonly tagNames = new Set<string>();
  /** Tag name → label of the commit it points at. */
  private readonly tagTarget = new Map<string, string>();
  /** prefix → highest [major, minor, patch] released so far, per major. */
  private readonly highest = new Map<string, Map<number, [number, number, number]>>();
  private readonly branchTips = new Map<string, string>();
  private readonly extraRefs: Record<string, string> = {};
  private readonly extraBranches: Record<string, string> = {};
  private time: number;
  private readonly name: string;
  private readonly modulePath: string;
  private readonly defaultBranch: string;

  constructor(
    private readonly seed: number,
    private readonly index: number,
  ) {
    this.rng = new Rng(`parity:${seed}:${index}`);
    const upper = this.rng.chance(0.08);
    this.name = repoName(index, seed, upper);
    if (upper) this.features.add('upper-case module path');
    this.modulePath = `${MODULE_HOST}/${DEFAULT_ORG}/${this.name}`;
    this.defaultBranch = this.rng.chance(0.8) ? 'main' : this.rng.pick(['master', 'trunk']);
    if (this.defaultBranch !== 'main') this.features.add(`default branch ${this.defaultBranch}`);
    // 2019-01-01 .. 2023-12-31
    this.time = Date.UTC(2019, 0, 1) / 1000 + this.rng.int(0, 5 * 365 * 86400);
  }

  generate(): GeneratedRepo {
    const rng = this.rng;
    const state = this.initialState();

    // Timeline: main commits, side branches forking from main, merges back.
    const mainCount = rng.int(2, 7);
    let mainTip: string;
    if (rng.chance(0.04)) {
      // An empty tree first.
      const empty: State = { files: new Map(), slots: [], legacyRoot: state.legacyRoot, legacyMajor: state.legacyMajor };
      const first = this.commit(empty, this.defaultBranch, []);
      mainTip = this.commit(state, this.defaultBranch, [first]);
      this.features.add('empty tree commit');
    } else {
      mainTip = this.commit(state, this.defaultBranch, []);
    }
    const sideBranches: string[] = [];
    const branchPool = rng.sample(BRANCH_NAMES, rng.int(0, 3));
    for (let i = 1; i < mainCount; i++) {
      // Maybe start or continue a side branch first.
      if (branchPool.length > 0 && rng.chance(0.35)) {
        const name = branchPool.shift()!;
        this.sideBranch(name, mainTip);
        sideBranches.push(name);
      } else if (sideBranches.length > 0 && rng.chance(0.2)) {
        const name = rng.pick(sideBranches);
        const tip = this.branchTips.get(name)!;
        this.branchTips.set(name, this.commit(this.mutate(this.stateOf(tip), 1), name, [tip]));
      }
      if (sideBranches.length > 0 && rng.chance(0.15)) {
        const name = rng.pick(sideBranches);
        const tip = this.branchTips.get(name)!;
        if (tip !== mainTip) {
          this.features.add('merge commit');
          mainTip = this.commit(this.mutate(this.stateOf(mainTip), 1), this.defaultBranch, [mainTip, tip]);
          continue;
        }
      }
      mainTip = this.commit(this.mutate(this.stateOf(mainTip), rng.int(1, 3)), this.defaultBranch, [mainTip]);
    }
    for (const name of branchPool) {
      if (rng.chance(0.4)) {
        // A branch that just points at an existing commit (no commit of its own).
        const target = rng.pick(this.commits).label;
        this.extraBranches[name] = target;
        this.branchTips.set(name, target);
        sideBranches.push(name);
      }
    }
    // A commit reachable only from refs/pull/… (go fetches only heads and tags).
    if (rng.chance(0.1)) {
      const base = rng.pick(this.commits).label;
      const label = this.commit(this.mutate(this.stateOf(base), 1), 'pr-tmp', [base], { noTags: true });
      this.extraRefs['refs/pull/1/head'] = label;
      this.extraBranches['pr-tmp'] = base; // move the temporary branch away again
      this.features.add('commit only under refs/pull');
    }
    // A tagged commit reachable only through its tag (its branch was moved away).
    if (rng.chance(0.1)) {
      const base = rng.pick(this.commits.filter((c) => c.branch !== 'pr-tmp')).label;
      const label = this.commit(this.mutate(this.stateOf(base), 1), 'tag-only-tmp', [base], { noTags: true });
      const commit = this.commits.find((c) => c.label === label)!;
      const root = commit.state.slots.find((x) => x.loc === '');
      const prefix = root ? tagPrefixOf(root) : '';
      const major = root ? Math.max(1, majorOf(root.suffix)) : commit.state.legacyRoot ? commit.state.legacyMajor : 1;
      this.addTag(commit, prefix + this.allocate(prefix, major, 'minor'));
      this.extraBranches['tag-only-tmp'] = base;
      this.features.add('commit reachable only from a tag');
    }
    this.oddTags();
    // HEAD names a branch without commits (unborn default branch).
    const unborn = rng.chance(0.03);
    if (unborn) this.features.add('unborn default branch');

    const spec: RepoSpec = {
      name: this.name,
      defaultBranch: unborn ? 'unborn' : this.defaultBranch,
      commits: this.commits.map(
        (c): CommitSpec => ({
          label: c.label,
          tree: c.tree,
          date: c.date,
          parents: c.parents,
          branch: c.branch,
          ...(c.tags.length > 0 ? { tags: c.tags } : {}),
          ...(rng.chance(0.2) ? { authorDate: '2001-01-01T00:00:00Z' } : {}),
        }),
      ),
      ...(Object.keys(this.extraBranches).length > 0 ? { branches: this.extraBranches } : {}),
      ...(Object.keys(this.extraRefs).length > 0 ? { refs: this.extraRefs } : {}),
      objects: rng.pick(['packed', 'packed', 'loose', 'mixed'] as const),
      // 'mixed' rewrites the default branch loose, which an unborn default branch does not have.
      refsLayout: ((l) => (unborn && l === 'mixed' ? 'packed' : l))(rng.pick(['loose', 'loose', 'packed', 'mixed'] as const)),
    };
    const modules = this.modulePaths();
    const queries = this.queries(
      modules,
      sideBranches.filter((b) => !b.endsWith('-tmp')),
    );
    return {
      seed: this.seed,
      index: this.index,
      name: this.name,
      spec,
      features: [...this.features].sort(),
      modules,
      queries,
    };
  }

  // ---------------------------------------------------------------- state and commits

  private initialState(): State {
    const rng = this.rng;
    const files = new Map<string, EntrySpec>();
    const pkg = 'p' + this.index;
    const rootKind = rng.float();
    const state: State = { files, slots: [], legacyRoot: false, legacyMajor: 1 };
    if (rootKind < 0.62) {
      state.slots.push(this.newSlot('', ''));
      this.features.add('root module');
    } else if (rootKind < 0.85) {
      state.legacyRoot = true;
      state.legacyMajor = rng.int(0, 2);
      this.features.add('root without go.mod (legacy tags, +incompatible)');
    } else {
      this.features.add('no root module');
    }
    files.set('a.go', `package ${pkg}\n`);
    if (rng.chance(0.5)) files.set('pkg/p.go', 'package pkg\n');
    if (rng.chance(0.6)) files.set('LICENSE', rng.pick(['MIT\n', 'Apache 2.0\r\n', 'BSD\n\nCopyright\n']));
    if (rng.chance(0.4)) files.set('README.md', '# readme\n');
    if (rng.chance(0.35)) {
      const dir = rng.pick(SUB_DIRS);
      state.slots.push(this.newSlot(dir, dir));
      files.set(`${dir}/s.go`, 'package s\n');
      this.features.add('nested module');
    }
    if (state.slots.length === 0 && !state.legacyRoot) {
      // A repository with no module anywhere is still useful (root pseudo-versions), but give it
      // a nested module most of the time.
      if (rng.chance(0.7)) {
        state.slots.push(this.newSlot('sub', 'sub'));
        files.set('sub/s.go', 'package s\n');
        this.features.add('nested module');
      }
    }
    return this.mutate(state, rng.int(1, 4));
  }

  private newSlot(loc: string, suffix: string): Slot {
    const rng = this.rng;
    return {
      loc,
      suffix,
      goLine: rng.pick(GO_LINES),
      style: rng.int(0, 9),
      retracts: [],
      mismatch: rng.chance(0.04),
    };
  }

  private stateOf(label: string): State {
    const commit = this.commits.find((c) => c.label === label);
    if (!commit) throw new Error(`no commit ${label}`);
    return structuredClone(commit.state);
  }

  private nextDate(): string {
    const rng = this.rng;
    const step = rng.chance(0.05) ? -rng.int(60, 86400) : rng.int(30, 3 * 86400); // occasional clock skew
    this.time += step;
    const offset = rng.pick(OFFSETS);
    if (offset !== 'Z') this.features.add('non-UTC committer offset');
    if (step < 0) this.features.add('committer date older than parent');
    return isoWithOffset(this.time, offset);
  }

  private commit(state: State, branch: string, parents: string[], opts: { noTags?: boolean } = {}): string {
    const label = `c${this.commits.length + 1}`;
    const tree: Record<string, EntrySpec> = {};
    for (const [path, entry] of state.files) tree[path] = entry;
    for (const slot of state.slots) {
      const path = slot.loc ? `${slot.loc}/go.mod` : 'go.mod';
      if (!(path in tree)) tree[path] = this.renderGoMod(slot);
    }
    dropPathConflicts(tree);
    const commit: Commit = { label, branch, parents, date: this.nextDate(), tree, tags: [], state: structuredClone(state) };
    this.commits.push(commit);
    this.branchTips.set(branch, label);
    if (!opts.noTags) this.tagCommit(commit);
    return label;
  }

  private renderGoMod(slot: Slot): string {
    const path = slot.mismatch
      ? `example.com/other${majorSuffix(slot.suffix)}`
      : slot.suffix
        ? `${this.modulePath}/${slot.suffix}`
        : this.modulePath;
    let head: string;
    switch (slot.style) {
      case 0:
        head = `module "${path}"\n`;
        break;
      case 1:
        head = `// header comment\nmodule ${path} // trailing comment\n`;
        break;
      case 2:
        head = `module ${path}\r\n`;
        break;
      case 3:
        // No module line at all (findDir: "is missing module path") — but rarely.
        head = this.rng.chance(0.3) ? '// no module directive\n' : `module ${path}\n`;
        break;
      case 4:
        head = this.rng.chance(0.3) ? `\ufeffmodule ${path}\n` : `module ${path}\n`;
        break;
      default:
        head = `module ${path}\n`;
    }
    const go = slot.goLine ? `\ngo ${slot.goLine}\n` : '';
    let retract = '';
    if (slot.retracts.length === 1) retract = `\nretract ${slot.retracts[0]}\n`;
    else if (slot.retracts.length > 1 && slot.style === 5) {
      // An unparsable retract among valid ones (ParseLax drops it; strict parsing would fail).
      retract = `\nretract ${slot.retracts[0]}\nretract v1.2\nretract ${slot.retracts.slice(1).join('\nretract ')}\n`;
    } else if (slot.retracts.length > 1) retract = `\nretract (\n${slot.retracts.map((r) => `\t${r} // broken\n`).join('')})\n`;
    return head + go + retract;
  }

  private sideBranch(name: string, from: string): void {
    const rng = this.rng;
    let tip = from;
    let state = this.stateOf(from);
    if (rng.chance(0.4) && state.slots.some((s) => s.loc === '' && s.suffix === '')) {
      // Root go.mod declaring /v2 on a branch of history.
      state.slots = state.slots.map((s) => (s.loc === '' && s.suffix === '' ? { ...s, suffix: 'v2', retracts: [] } : s));
      this.features.add('root go.mod /v2 on a branch');
    }
    const n = rng.int(1, 3);
    for (let i = 0; i < n; i++) {
      state = this.mutate(state, rng.int(1, 2));
      tip = this.commit(state, name, [tip]);
      state = this.stateOf(tip);
    }
    this.features.add('side branch');
  }

  // ---------------------------------------------------------------- mutations

  private mutate(state: State, count: number): State {
    const rng = this.rng;
    const files = state.files;
    // Invalid names from the previous commit usually go away again.
    for (const set of INVALID_NAME_SETS) {
      for (const path of Object.keys(set)) if (files.has(path) && rng.chance(0.7)) files.delete(path);
    }
    for (let n = 0; n < count; n++) {
      const op = rng.int(0, 27);
      switch (op) {
        case 0:
        case 1:
        case 2: {
          // Edit a Go file somewhere.
          const goFiles = [...files.keys()].filter((p) => p.endsWith('.go'));
          const path = goFiles.length > 0 ? rng.pick(goFiles) : 'a.go';
          const prev = files.get(path);
          const text = typeof prev === 'string' ? prev : 'package x\n';
          files.set(path, `${text}// change ${rng.hex(6)}\n`);
          break;
        }
        case 3: {
          // New nested module.
          const free = SUB_DIRS.filter((d) => !state.slots.some((s) => s.loc === d || s.loc.startsWith(d + '/')));
          if (free.length === 0) break;
          const dir = rng.pick(free);
          state.slots.push(this.newSlot(dir, dir));
          files.set(`${dir}/s.go`, 'package s\n');
          this.features.add('nested module');
          break;
        }
        case 4: {
          // Bump the root go.mod to the next major (/v2, /v3).
          const root = state.slots.find((s) => s.loc === '');
          if (!root) break;
          const major = majorOf(root.suffix);
          if (major >= 3) break;
          root.suffix = `v${Math.max(2, major + 1)}`;
          root.retracts = [];
          this.features.add('root go.mod /vN');
          break;
        }
        case 5: {
          // Major-version subdirectory: v2/go.mod (or sub/v2/go.mod).
          const candidates: Array<[string, string]> = [
            ['v2', 'v2'],
            ['v3', 'v3'],
          ];
          for (const s of state.slots) {
            if (s.loc !== '' && s.loc === s.suffix) candidates.push([`${s.loc}/v2`, `${s.loc}/v2`]);
          }
          const [loc, suffix] = rng.pick(candidates);
          if (state.slots.some((s) => s.loc === loc)) break;
          state.slots.push(this.newSlot(loc, suffix));
          files.set(`${loc}/m.go`, 'package m\n');
          this.features.add('major-version subdirectory');
          break;
        }
        case 6: {
          // Nested module switches to /v2 in place (sub/go.mod declaring sub/v2).
          const s = state.slots.find((x) => x.loc !== '' && x.loc === x.suffix && !/(^|\/)v\d+$/.test(x.loc));
          if (!s) break;
          s.suffix = `${s.loc}/v2`;
          s.retracts = [];
          this.features.add('nested module /v2 in place');
          break;
        }
        case 7: {
          // Legacy root gains a go.mod (or a module root loses it).
          if (state.legacyRoot && rng.chance(0.6)) {
            state.legacyRoot = false;
            state.slots.push(this.newSlot('', ''));
            this.features.add('go.mod added to a legacy root');
          } else if (state.legacyRoot) {
            state.legacyMajor = Math.min(4, state.legacyMajor + 1);
          }
          break;
        }
        case 8: {
          // LICENSE variations.
          const clearDir = () => {
            for (const p of [...files.keys()]) if (p.startsWith('LICENSE/')) files.delete(p);
          };
          const sub = state.slots.find((x) => x.loc !== '');
          switch (rng.int(0, 5)) {
            case 0:
              files.delete('LICENSE');
              break;
            case 1:
              clearDir();
              files.set('LICENSE', rng.pick(['ROOT LICENSE\nline two\n', 'CRLF LICENSE\r\n', '$Id$ license\n']));
              break;
            case 2:
              if (sub) files.set(`${sub.loc}/LICENSE`, 'OWN LICENSE\n');
              this.features.add('LICENSE in a module subdirectory');
              break;
            case 3:
              if (sub) files.set(`${sub.loc}/LICENSE`, { symlink: '../LICENSE' });
              this.features.add('LICENSE symlink in a module');
              break;
            case 4:
              files.delete('LICENSE');
              files.set('LICENSE/README', 'a directory named LICENSE\n');
              this.features.add('LICENSE directory');
              break;
            default:
              clearDir();
              files.set('LICENSE', { symlink: 'COPYING' });
              files.set('COPYING', 'copying\n');
              this.features.add('root LICENSE symlink');
          }
          break;
        }
        case 9:
        case 10: {
          // vendor trees (old rule only: every go line stays < 1.24).
          const where = rng.pick(['', ...state.slots.map((s) => s.loc).filter((l) => l !== '')]);
          const at = (p: string) => (where ? `${where}/${p}` : p);
          files.set(at('vendor/modules.txt'), '# example.com/dep v1.0.0\n## explicit\nexample.com/dep\n');
          if (rng.chance(0.7)) files.set(at('vendor/example.com/dep/d.go'), 'package dep\n');
          if (rng.chance(0.5)) files.set(at('vendor/top.go'), 'package vendor\n');
          if (rng.chance(0.5)) files.set(at('pkg/vendor/a.go'), 'package vendor\n');
          if (rng.chance(0.4)) files.set(at('pkg/vendor/sub/b.go'), 'package sub\n');
          if (rng.chance(0.3)) files.set(at('b/vendor'), 'a file named vendor\n');
          if (rng.chance(0.3)) files.set(at('vendorx/a.go'), 'package vendorx\n');
          if (rng.chance(0.2)) files.set(at('c/vendor/modules.txt'), '# nested\n');
          this.features.add('vendor directories');
          break;
        }
        case 11: {
          // Symlinks.
          const kind = rng.int(0, 4);
          if (kind === 0) files.set('link.go', { symlink: 'a.go' });
          else if (kind === 1) files.set('dirlink', { symlink: 'pkg' });
          else if (kind === 2) files.set('abs', { symlink: '/etc/passwd' });
          else if (kind === 3) {
            files.set('real.mod', 'module example.com/real\n');
            files.set('subl/go.mod', { symlink: '../real.mod' });
            files.set('subl/x.go', 'package subl\n');
          } else {
            const s = state.slots.find((x) => x.loc !== '');
            files.set(s ? `${s.loc}/up` : 'self', { symlink: '..' });
          }
          this.features.add('symlinks');
          break;
        }
        case 12:
        case 13: {
          // Root .gitattributes.
          const lines = this.rng.sample(ROOT_ATTR_RULES, rng.int(1, 6));
          if (lines.includes('*.ct crlftext') && !lines.includes('[attr]crlftext text eol=crlf'))
            lines.unshift('[attr]crlftext text eol=crlf');
          const eol = rng.chance(0.15) ? '\r\n' : '\n';
          files.set('.gitattributes', lines.join(eol) + (rng.chance(0.9) ? eol : ''));
          this.features.add('.gitattributes');
          if (lines.some((l) => l.includes('working-tree-encoding'))) this.features.add('working-tree-encoding');
          break;
        }
        case 14: {
          // Nested .gitattributes.
          const dirs = ['pkg', 'docs', 'deep', 'x/y', ...state.slots.map((s) => s.loc).filter((l) => l !== '')];
          const dir = rng.pick(dirs);
          files.set(`${dir}/.gitattributes`, this.rng.sample(NESTED_ATTR_RULES, rng.int(1, 3)).join('\n') + '\n');
          this.features.add('nested .gitattributes');
          break;
        }
        case 15:
        case 16:
        case 17: {
          // Files whose bytes stress the conversions, in several directories (and modules).
          const k = rng.int(1, 4);
          const dirs = [...ZOO_DIRS, ...state.slots.map((s) => s.loc).filter((l) => l !== '')];
          for (let i = 0; i < k; i++) {
            const dir = rng.pick(dirs);
            const name = rng.pick(ZOO_NAMES);
            const { content, kind } = zooContent(rng);
            files.set(dir ? `${dir}/${name}` : name, content);
            this.features.add(`content:${kind}`);
          }
          break;
        }
        case 18: {
          // Non-ASCII (valid) names.
          const dirs = ['', ...state.slots.map((s) => s.loc).filter((l) => l !== '')];
          for (const name of rng.sample(MODULE_NAMES_NONASCII, rng.int(1, 3))) {
            const dir = rng.pick(dirs);
            files.set(dir ? `${dir}/${name}` : name, `${name}\n`);
          }
          this.features.add('non-ASCII file names');
          break;
        }
        case 19: {
          // Invalid names: both sides must fail to build zips containing them.
          if (!rng.chance(0.5)) break;
          const set = rng.pick(INVALID_NAME_SETS);
          for (const [p, e] of Object.entries(set)) files.set(p, e);
          this.features.add('invalid file names');
          break;
        }
        case 20: {
          // Retract directive in some module's go.mod.
          const s = rng.pick(state.slots.length > 0 ? state.slots : [null]);
          if (!s) break;
          const prefix = tagPrefixOf(s);
          const major = majorOf(s.suffix);
          const known = [...this.tagNames]
            .filter((t) => t.startsWith(prefix) && !t.slice(prefix.length).includes('/'))
            .map((t) => t.slice(prefix.length))
            .filter((v) => /^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(v) && (major >= 2 ? v.startsWith(`v${major}.`) : /^v[01]\./.test(v)));
          const next = this.peekNext(prefix, major >= 2 ? major : 1);
          const one = known.length > 0 && rng.chance(0.6) ? rng.pick(known) : next;
          let r = one;
          if (known.length > 0 && rng.chance(0.25)) {
            const [lo, hi] = [rng.pick(known), one].sort(compareSemver);
            if (lo !== hi) r = `[${lo}, ${hi}]`;
          }
          if (!s.retracts.includes(r)) s.retracts.push(r);
          this.features.add('retract directive');
          break;
        }
        case 21: {
          // go line changes (always < 1.24).
          const s = state.slots.length > 0 ? rng.pick(state.slots) : undefined;
          if (s) s.goLine = rng.pick(GO_LINES);
          break;
        }
        case 22: {
          // Submodule (gitlink) + .gitmodules.
          files.set('.gitmodules', '[submodule "ext"]\n\tpath = ext\n\turl = https://example.com/ext.git\n');
          files.set('ext', { gitlink: this.rng.hex(40) });
          this.features.add('gitlink');
          break;
        }
        case 23: {
          // Zip filter edge cases.
          const kind = rng.int(0, 6);
          if (kind === 6) {
            // A symlinked go.mod in a module-less subdirectory and in the root (when the root has none).
            files.set('real.mod', `module ${this.modulePath}\n`);
            files.set('lnk/go.mod', { symlink: '../real.mod' });
            files.set('lnk/l.go', 'package lnk\n');
            if (!state.slots.some((x) => x.loc === '')) files.set('go.mod', { symlink: 'real.mod' });
          } else if (kind === 0) files.set('.hg_archival.txt', 'repo: x\n');
          else if (kind === 1) files.set('d/.hg_archival.txt', 'nested\n');
          else if (kind === 2) {
            files.set('testdata/go.mod', 'module testdata\n');
            files.set('testdata/t.go', 'package testdata\n');
          } else if (kind === 3) files.set('a/go.mod/f.go', 'package f\n');
          else if (kind === 4) {
            files.set('sub2/GO.MOD', 'x\n');
            files.set('sub2/y.go', 'package y\n');
          } else {
            files.set('.hg/x', 'z\n');
            files.set('.git2/x', 'z\n');
          }
          this.features.add('zip filter edge cases');
          break;
        }
        case 24: {
          // Empty and executable files.
          files.set(rng.pick(['empty', 'pkg/empty.go', 'e/empty']), '');
          files.set(rng.pick(['run.sh', 'pkg/tool']), { content: '#!/bin/sh\nexit 0\n', executable: true });
          break;
        }
        case 25: {
          // A tagged directory without go.mod (prefixed tags, but nothing to download).
          files.set('nomod/n.go', 'package nomod\n');
          this.features.add('tagged directory without go.mod');
          break;
        }
        case 26: {
          // A nested module loses its go.mod (its files join the enclosing module).
          const subs = state.slots.filter((s) => s.loc !== '');
          if (subs.length === 0 || !rng.chance(0.4)) break;
          const s = rng.pick(subs);
          state.slots = state.slots.filter((x) => x !== s);
          this.features.add('nested go.mod removed');
          break;
        }
        default: {
          // Remove a random non-essential file.
          const paths = [...files.keys()].filter((p) => p !== 'a.go');
          if (paths.length > 0) files.delete(rng.pick(paths));
        }
      }
    }
    return state;
  }

  // ---------------------------------------------------------------- tags

  private peekNext(prefix: string, major: number): string {
    const h = this.highest.get(prefix)?.get(major);
    if (!h) return `v${major}.0.0`;
    return `v${h[0]}.${h[1]}.${h[2] + 1}`;
  }

  private allocate(prefix: string, major: number, kind: 'patch' | 'minor'): string {
    let perMajor = this.highest.get(prefix);
    if (!perMajor) this.highest.set(prefix, (perMajor = new Map()));
    const h = perMajor.get(major);
    let next: [number, number, number];
    if (!h) next = [major, major === 0 ? 1 : 0, 0];
    else if (kind === 'minor') next = [major, h[1] + 1, 0];
    else next = [major, h[1], h[2] + 1];
    perMajor.set(major, next);
    return `v${next[0]}.${next[1]}.${next[2]}`;
  }

  private addTag(commit: Commit, name: string, annotated = this.rng.chance(0.35)): boolean {
    if (this.tagNames.has(name)) return false;
    this.tagNames.add(name);
    this.tagTarget.set(name, commit.label);
    if (annotated) {
      this.features.add('annotated tags');
      commit.tags.push({
        name,
        date: isoWithOffset(this.time + this.rng.int(-86400 * 400, 86400 * 400), this.rng.pick(OFFSETS)),
        message: `release ${name}\n`,
      });
    } else {
      commit.tags.push(name);
    }
    return true;
  }

  private tagCommit(commit: Commit): void {
    const rng = this.rng;
    const state = commit.state;
    const targets: Array<{ prefix: string; major: number; legacy: boolean }> = [];
    for (const s of state.slots) {
      const m = majorOf(s.suffix);
      targets.push({ prefix: tagPrefixOf(s), major: m >= 2 ? m : rng.chance(0.3) ? 0 : 1, legacy: false });
    }
    if (state.legacyRoot) targets.push({ prefix: '', major: state.legacyMajor, legacy: true });
    if (state.files.has('nomod/n.go')) targets.push({ prefix: 'nomod/', major: 1, legacy: false });
    for (const t of targets) {
      if (!rng.chance(0.45)) continue;
      let major = t.major;
      if (!t.legacy && major <= 1 && rng.chance(0.06)) {
        major = 2; // a v2 tag on a module whose go.mod has no /v2 (list and convert rules)
        this.features.add('major tag without /vN go.mod');
      }
      if (t.legacy && major >= 2) this.features.add('+incompatible tags');
      const kind = rng.chance(0.35) ? 'minor' : 'patch';
      const version = this.allocate(t.prefix, major, kind);
      if (rng.chance(0.22)) {
        // Pre-release of the version (and sometimes the release later, on the same commit).
        const pre = `${version}-${rng.pick(PRERELEASES)}`;
        this.addTag(commit, t.prefix + pre);
        this.features.add('pre-release tags');
        if (rng.chance(0.3)) this.addTag(commit, t.prefix + version);
      } else {
        this.addTag(commit, t.prefix + version);
        if (rng.chance(0.1)) {
          // Two releases on one commit: the highest wins.
          this.addTag(commit, t.prefix + this.allocate(t.prefix, major, 'patch'));
          this.features.add('several tags on one commit');
        }
      }
      if (t.prefix !== '') this.features.add('prefixed tags');
    }
  }

  /** Non-canonical, +meta, pseudo-shaped, branch-shadowing and hash-like tags. */
  private oddTags(): void {
    const rng = this.rng;
    if (this.commits.length === 0) return;
    const prefixes = [''];
    for (const c of this.commits) for (const s of c.state.slots) prefixes.push(tagPrefixOf(s));
    const n = rng.chance(0.5) ? rng.int(1, 4) : 0;
    for (let i = 0; i < n; i++) {
      const commit = rng.pick(this.commits);
      if (commit.branch.endsWith('-tmp')) continue;
      const prefix = rng.pick(prefixes);
      const kind = rng.int(0, 12);
      let name: string;
      if (kind === 0) name = `${prefix}v1.${rng.int(0, 9)}`;
      else if (kind === 1) name = `${prefix}v1.${rng.int(0, 9)}.${rng.int(0, 9)}+meta.${rng.int(1, 9)}`;
      else if (kind === 2) name = `${prefix}v1.0.0-20210101000000-${rng.hex(12)}`;
      else if (kind === 3) name = `${prefix}vfoo`;
      else if (kind === 4) name = `${prefix}v01.4.0`;
      else if (kind === 5)
        name = rng.pick(['dev', 'next', 'HEAD', 'latest', this.defaultBranch]); // shadows a branch / keyword
      else if (kind === 6)
        name = rng.hex(8).replace(/^[0-9]/, 'a'); // hash-like tag name
      else if (kind === 7) name = `${prefix}v0.0.0-${pseudoTimestamp(commit.date)}-${rng.hex(12)}`;
      else if (kind === 8) name = `${prefix}v2.0.0+incompatible`;
      else if (kind === 9)
        name = `${prefix}v1.10.0`; // numeric, not string, order against v1.9.x
      else if (kind === 10) name = `${prefix}v1.9.${rng.int(0, 12)}`;
      else if (kind === 11) name = `${prefix}v1.0.0-${rng.pick(['0', '01', 'x.7.z.92', 'a-b.c', 'rc.1.2'])}`;
      else name = `${prefix}v0.0.${rng.int(1, 3)}-${rng.pick(['beta', '0.20200101000000-000000000000'])}`;
      if (this.addTag(commit, name)) this.features.add('odd tags');
    }
  }

  // ---------------------------------------------------------------- modules and queries

  private modulePaths(): string[] {
    const rng = this.rng;
    const suffixes = new Set<string>(['']);
    for (const c of this.commits) {
      for (const s of c.state.slots) {
        suffixes.add(s.suffix);
        const codeDir = stripMajor(s.suffix);
        suffixes.add(codeDir);
      }
    }
    for (const tag of this.tagNames) {
      const m = /^(?:(.+)\/)?v(\d+)\./.exec(tag);
      if (!m) continue;
      const dir = m[1] ?? '';
      const major = Number(m[2]);
      if (major >= 2) suffixes.add(dir ? `${dir}/v${major}` : `v${major}`);
      if (dir) suffixes.add(dir);
    }
    // A /vN with nothing behind it, and a directory that is no module.
    if (rng.chance(0.3)) suffixes.add(rng.pick(['v2', 'v5', 'sub/v3']));
    if (rng.chance(0.3)) suffixes.add(rng.pick(['pkg', 'docs', 'x/y']));
    return [...suffixes].sort().map((s) => (s ? `${this.modulePath}/${s}` : this.modulePath));
  }

  private queries(modules: string[], branches: string[]): QuerySpec[] {
    const rng = this.rng;
    const out: QuerySpec[] = [];
    const reachable = this.commits.filter((c) => c.branch !== 'pr-tmp');
    for (const module of modules) {
      const suffix = module === this.modulePath ? '' : module.slice(this.modulePath.length + 1);
      const codeDir = stripMajor(suffix);
      const pathMajor = majorOf(suffix);
      const prefix = codeDir ? `${codeDir}/` : '';
      const lit = (query: string, why: string) => out.push({ module, kind: 'literal', query, why });

      lit('latest', 'latest');
      lit('HEAD', 'HEAD');
      lit(this.defaultBranch, 'default branch');
      for (const b of branches) lit(b, 'branch');
      if (rng.chance(0.3)) lit('nosuchbranch', 'unknown revision');
      if (rng.chance(0.3)) lit(`v${pathMajor >= 2 ? pathMajor : rng.int(0, 1)}`, 'major prefix query');
      if (rng.chance(0.15)) lit(rng.pick(['upgrade', 'patch', '>=v1.0.0', '<v2.0.0', 'v1.2']), 'query keyword');

      // Every tag of this module's prefix, as the query go users would type.
      for (const tag of [...this.tagNames].sort()) {
        if (!tag.startsWith(prefix)) continue;
        const rest = tag.slice(prefix.length);
        if (rest.includes('/')) continue;
        if (!rest.startsWith('v')) continue;
        // On a /vN path only tags of major N matter (plus the odd other one, which must fail).
        const tagMajor = /^v(\d+)\./.exec(rest)?.[1];
        if (pathMajor >= 2 && tagMajor !== String(pathMajor) && !rng.chance(0.15)) continue;
        lit(rest, 'tag');
        if (pathMajor < 2 && codeDir === '' && /^v([2-9]|\d\d)\.\d+\.\d+/.test(rest) && !rest.includes('+') && rng.chance(0.4)) {
          lit(`${rest}+incompatible`, '+incompatible spelled out');
        }
      }

      // Hash prefixes: 7-12 lower-case hex, sometimes the full id, 6 hex, or upper case (must fail).
      const hashCommit = rng.pick(reachable);
      out.push({ module, kind: 'hash', label: hashCommit.label, length: rng.int(7, 12), why: 'hash prefix' });
      if (rng.chance(0.2)) out.push({ module, kind: 'hash', label: rng.pick(reachable).label, length: 40, why: 'full hash' });
      if (rng.chance(0.08)) out.push({ module, kind: 'hash', label: hashCommit.label, length: 6, why: '6-hex prefix (unknown revision)' });
      if (rng.chance(0.08))
        out.push({ module, kind: 'hash', label: hashCommit.label, length: 12, upper: true, why: 'upper-case hash (unknown revision)' });
      const pr = this.extraRefs['refs/pull/1/head'];
      if (pr && rng.chance(0.5)) out.push({ module, kind: 'hash', label: pr, length: 40, why: 'commit only under refs/pull' });

      // Pseudo-versions: form 1 on an untagged commit, and one derived from an ancestor tag.
      const untagged = reachable.filter((c) => c.tags.length === 0);
      const target = untagged.length > 0 ? rng.pick(untagged) : rng.pick(reachable);
      const major = pathMajor >= 2 ? pathMajor : 0;
      out.push({ module, kind: 'pseudo', label: target.label, head: `v${major}.0.0-`, tail: '', why: 'pseudo-version without base' });
      const base = this.ancestorBase(target.label, prefix, pathMajor, codeDir === '' && pathMajor < 2);
      if (base) {
        const [head, tail] = pseudoHead(base);
        out.push({ module, kind: 'pseudo', label: target.label, head, tail, why: `pseudo-version on base ${base}` });
        if (tail && rng.chance(0.5))
          out.push({
            module,
            kind: 'pseudo',
            label: target.label,
            head,
            tail: '',
            why: `pseudo-version on base ${base} without +incompatible`,
          });
      }
      if (rng.chance(0.25)) {
        const tweak = rng.pick(['time', 'short', 'long'] as const);
        out.push({
          module,
          kind: 'pseudo',
          label: target.label,
          head: `v${major}.0.0-`,
          tail: '',
          tweak,
          why: `invalid pseudo-version (${tweak})`,
        });
      }
      if (rng.chance(0.1) && pathMajor < 2) {
        out.push({
          module,
          kind: 'pseudo',
          label: target.label,
          head: 'v1.0.0-',
          tail: '',
          why: 'v1 pseudo-version without base (invalid)',
        });
      }
    }
    return dedupe(out);
  }

  /** A canonical version from a tag on a strict ancestor of `label` that is allowed for the path. */
  private ancestorBase(label: string, prefix: string, pathMajor: number, mayIncompatible: boolean): string | undefined {
    const ancestors = this.ancestors(label);
    ancestors.delete(label);
    const onCommit = new Set(this.commits.find((c) => c.label === label)?.tags.map(tagName) ?? []);
    const candidates: string[] = [];
    for (const [tag, target] of this.tagTarget) {
      if (!ancestors.has(target) || !tag.startsWith(prefix)) continue;
      const v = tag.slice(prefix.length);
      const m = /^v(\d+)\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.exec(v);
      if (!m || /^v\d+\.\d+\.\d+-(?:\d{14}|.*\.0\.\d{14})-/.test(v)) continue;
      if (v.startsWith('v0.0.0-') || /-0\.\d{14}/.test(v)) continue;
      if (onCommit.has(prefix + v)) continue;
      const major = Number(m[1]);
      const fits = pathMajor >= 2 ? major === pathMajor : major <= 1 || mayIncompatible;
      if (fits) candidates.push(v);
    }
    if (candidates.length === 0) return undefined;
    const v = this.rng.pick(candidates.sort());
    return pathMajor < 2 && Number(/^v(\d+)/.exec(v)![1]) >= 2 ? `${v}+incompatible` : v;
  }

  private ancestors(label: string): Set<string> {
    const seen = new Set<string>();
    const stack = [label];
    while (stack.length > 0) {
      const l = stack.pop()!;
      if (seen.has(l)) continue;
      seen.add(l);
      const c = this.commits.find((x) => x.label === l);
      if (c) stack.push(...c.parents);
    }
    return seen;
  }
}

// ------------------------------------------------------------------------------------------------
// helpers

/** A path cannot be both a file and a directory: drop the file when something lives below it. */
function dropPathConflicts(tree: Record<string, EntrySpec>): void {
  const dirs = new Set<string>();
  for (const path of Object.keys(tree)) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  for (const path of Object.keys(tree)) if (dirs.has(path)) delete tree[path];
}

/** Orders `vX.Y.Z[-pre]` versions the way semver does (enough for generated versions). */
function compareSemver(a: string, b: string): number {
  const pa = /^v(\d+)\.(\d+)\.(\d+)(?:-([^+]*))?/.exec(a);
  const pb = /^v(\d+)\.(\d+)\.(\d+)(?:-([^+]*))?/.exec(b);
  if (!pa || !pb) return a < b ? -1 : a > b ? 1 : 0;
  for (let i = 1; i <= 3; i++) {
    const d = Number(pa[i]) - Number(pb[i]);
    if (d !== 0) return d;
  }
  const ra = pa[4];
  const rb = pb[4];
  if (ra === undefined || rb === undefined) return ra === rb ? 0 : ra === undefined ? 1 : -1;
  const xa = ra.split('.');
  const xb = rb.split('.');
  for (let i = 0; i < Math.max(xa.length, xb.length); i++) {
    const ea = xa[i];
    const eb = xb[i];
    if (ea === undefined) return -1;
    if (eb === undefined) return 1;
    const na = /^\d+$/.test(ea);
    const nb = /^\d+$/.test(eb);
    if (na && nb && Number(ea) !== Number(eb)) return Number(ea) - Number(eb);
    if (na !== nb) return na ? -1 : 1;
    if (ea !== eb) return ea < eb ? -1 : 1;
  }
  return 0;
}

function tagName(t: TagSpec): string {
  return typeof t === 'string' ? t : t.name;
}

function majorOf(suffix: string): number {
  const m = /(?:^|\/)v(\d+)$/.exec(suffix);
  return m ? Number(m[1]) : 1;
}

function majorSuffix(suffix: string): string {
  const m = /(?:^|\/)(v\d+)$/.exec(suffix);
  return m ? `/${m[1]}` : '';
}

/** `sub/v2` → `sub`, `v2` → ``, `sub` → `sub`. */
function stripMajor(suffix: string): string {
  return suffix.replace(/(?:^|\/)v\d+$/, '');
}

function tagPrefixOf(slot: Slot): string {
  const codeDir = stripMajor(slot.suffix);
  return codeDir ? `${codeDir}/` : '';
}

/** `v1.2.3` → [`v1.2.4-0.`, ``]; `v1.2.3-rc.1` → [`v1.2.3-rc.1.0.`, ``]; `+incompatible` kept as tail. */
function pseudoHead(base: string): [string, string] {
  const tail = base.endsWith('+incompatible') ? '+incompatible' : '';
  const v = base.replace(/\+incompatible$/, '');
  const m = /^v(\d+)\.(\d+)\.(\d+)(-.*)?$/.exec(v)!;
  if (m[4]) return [`${v}.0.`, tail];
  return [`v${m[1]}.${m[2]}.${Number(m[3]) + 1}-0.`, tail];
}

function isoWithOffset(unixSeconds: number, offset: string): string {
  let minutes = 0;
  if (offset !== 'Z') {
    const sign = offset.startsWith('-') ? -1 : 1;
    minutes = sign * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6)));
  }
  const local = new Date((unixSeconds + minutes * 60) * 1000).toISOString().slice(0, 19);
  return `${local}${offset}`;
}

function dedupe(queries: QuerySpec[]): QuerySpec[] {
  const seen = new Set<string>();
  return queries.filter((q) => {
    const key = JSON.stringify({ ...q, why: '' });
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Turns the generated queries into concrete strings once the commit ids are known. */
export function resolveQueries(repo: GeneratedRepo, built: BuiltRepo): ResolvedQuery[] {
  const dateOf = new Map(repo.spec.commits.map((c, i) => [c.label ?? `c${i + 1}`, c.date]));
  const out: ResolvedQuery[] = [];
  const seen = new Set<string>();
  const push = (module: string, query: string, why: string) => {
    const key = `${module}@${query}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ module, query, why });
  };
  for (const q of repo.queries) {
    if (q.kind === 'literal') {
      push(q.module, q.query, q.why);
    } else if (q.kind === 'hash') {
      const hex = built.oid(q.label).slice(0, q.length);
      push(q.module, q.upper ? hex.toUpperCase() : hex, `${q.why} (${q.label})`);
    } else {
      const date = dateOf.get(q.label);
      if (!date) throw new Error(`no date for ${q.label}`);
      let ts = pseudoTimestamp(date);
      let rev = built.oid(q.label).slice(0, 12);
      if (q.tweak === 'time') ts = pseudoTimestamp(new Date(Date.parse(date) + 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'));
      if (q.tweak === 'short') rev = rev.slice(0, 7);
      if (q.tweak === 'long') rev = built.oid(q.label).slice(0, 13);
      push(q.module, `${q.head}${ts}-${rev}${q.tail}`, `${q.why} (${q.label})`);
    }
  }
  return out;
}

/** One-line description of a generated repository for reports. */
export function describeRepo(repo: GeneratedRepo): string {
  const tags = repo.spec.commits.flatMap((c) => (c.tags ?? []).map(tagName));
  return (
    `${repo.name}: ${repo.spec.commits.length} commits, ${tags.length} tags [${tags.join(' ')}], ` +
    `modules [${repo.modules.map((m) => m.split('/').slice(3).join('/') || '.').join(' ')}], ` +
    `features: ${repo.features.join(', ')}`
  );
}

/**
 * `count` repository indexes of `seed` that together exercise as many generator features as
 * possible (greedy set cover over the first `pool` indexes, skipping repositories with more than
 * `maxQueries` generated queries so that a small run stays quick). Content-kind features are left
 * out of the cover: every repository has some.
 */
export function coveringSelection(
  seed: number,
  count: number,
  pool = 300,
  maxQueries = 50,
): { indexes: number[]; covered: string[]; missing: string[] } {
  const candidates: Array<{ index: number; features: Set<string> }> = [];
  const all = new Set<string>();
  for (let index = 0; index < pool; index++) {
    const repo = generateRepo(seed, index);
    const features = new Set(repo.features.filter((f) => !f.startsWith('content:')));
    for (const f of features) all.add(f);
    if (repo.queries.length <= maxQueries) candidates.push({ index, features });
  }
  const covered = new Set<string>();
  const indexes: number[] = [];
  for (let k = 0; k < count; k++) {
    let best: { index: number; features: Set<string> } | undefined;
    let bestGain = -1;
    for (const c of candidates) {
      if (indexes.includes(c.index)) continue;
      const gain = [...c.features].filter((f) => !covered.has(f)).length;
      if (gain > bestGain) {
        best = c;
        bestGain = gain;
      }
    }
    if (!best) break;
    indexes.push(best.index);
    for (const f of best.features) covered.add(f);
  }
  return { indexes, covered: [...covered].sort(), missing: [...all].filter((f) => !covered.has(f)).sort() };
}
