/**
 * Declarative git repository builder for the end-to-end tests.
 *
 * Every repository is a BARE repository under `<root>/repos/<org>/<name>`, built with the git CLI
 * (`git fast-import`, so each commit gets an exact tree: bytes, executable bits, symlinks and
 * gitlinks) with fixed author/committer dates that keep their time-zone offsets. The same
 * `<root>/home/.gitconfig` that is used to build the repositories is the one the `go` command uses
 * in direct mode: it holds the `url.<file://root/repos/>.insteadOf https://github.com/` rule of
 * go-modules.md §7, so `github.com/<org>/<name>` fetched with `GOPROXY=direct` reads exactly the
 * repository that the proxy serves.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A regular file (mode 100644) with these exact bytes. */
export type FileContent = string | Uint8Array;

/** One entry of a commit's tree. */
export type EntrySpec =
  | FileContent
  | { content: FileContent; executable?: boolean }
  | { symlink: string }
  /** A submodule entry (mode 160000) pointing at this 40-hex commit id; the commit need not exist. */
  | { gitlink: string };

/** The FULL tree of a commit: repository-relative path → entry. Nothing is inherited. */
export type TreeSpec = Record<string, EntrySpec>;

export interface AnnotatedTagSpec {
  name: string;
  /** Tagger date, ISO 8601 with offset (`2030-01-01T00:00:00+01:00`). */
  date: string;
  message?: string;
}

export type TagSpec = string | AnnotatedTagSpec;

export interface CommitSpec {
  /** Label for `parents`, `branches`, `refs` and {@link BuiltRepo.oid}. Defaults to `c<index+1>`. */
  label?: string;
  tree: TreeSpec;
  /** Committer date, ISO 8601 with offset: `2021-01-04T10:00:00+02:00` or `…Z`. */
  date: string;
  /** Author date; defaults to `date`. */
  authorDate?: string;
  message?: string;
  /**
   * Parent labels. Defaults to the current tip of `branch`, and to NO parent for the first commit
   * on a branch: a commit that starts a new branch must name its parent (`parents: ['c1']`).
   */
  parents?: string[];
  /**
   * Branch this commit advances. Defaults to the repository's default branch. A full ref name
   * (`refs/pull/1/head`) puts the commit under that ref only.
   */
  branch?: string;
  tags?: TagSpec[] | undefined;
}

export interface RepoSpec {
  /** Owner segment of the module path; defaults to `testorg`. */
  org?: string;
  name: string;
  /** What HEAD points at. Defaults to `main`. */
  defaultBranch?: string;
  commits: CommitSpec[];
  /** Extra branches: name → commit label. */
  branches?: Record<string, string> | undefined;
  /** Extra refs outside heads/tags: full ref name (`refs/pull/1/head`) → commit label. */
  refs?: Record<string, string> | undefined;
  /** `packed` (default: one pack from fast-import), `loose`, or `mixed` (first half packed). */
  objects?: 'packed' | 'loose' | 'mixed';
  /** `loose` (default), `packed` (`git pack-refs --all`), or `mixed` (packed, then the default branch rewritten loose). */
  refsLayout?: 'loose' | 'packed' | 'mixed';
  /** Delete the bare repository's `config` file after building. */
  removeConfig?: boolean;
}

export interface BuiltRepo {
  org: string;
  name: string;
  /** `<org>/<name>`: the project path. */
  fullPath: string;
  /** `github.com/<org>/<name>`. */
  modulePath: string;
  /** Absolute path of the bare repository. */
  gitdir: string;
  /** Commit id for a label. Throws for an unknown label. */
  oid(label: string): string;
  /** First 12 hex characters of {@link oid}. */
  short(label: string): string;
  /** Label → commit id, in commit order. */
  commits: ReadonlyMap<string, string>;
}

export const DEFAULT_ORG = 'testorg';
export const MODULE_HOST = 'github.com';

const AUTHOR = { name: 'Test', email: 'test@example.com' };

export interface FixtureWorld {
  /** Temporary root: `repos/`, `home/` and scratch folders of the other helpers live here. */
  root: string;
  reposDir: string;
  /** HOME for git and go: `.gitconfig` with user, defaultBranch, insteadOf, protocol.file.allow. */
  homeDir: string;
  /** Clean environment for git: no system config, HOME = homeDir, nothing from the caller's git. */
  gitEnv: NodeJS.ProcessEnv;
  build(spec: RepoSpec): Promise<BuiltRepo>;
  /** Run git with the clean environment; resolves stdout. */
  git(args: string[], options?: { cwd?: string; input?: string | Uint8Array }): Promise<Buffer>;
  /** Removes the whole temporary root (use in `after`). Safe to call twice. */
  dispose(): Promise<void>;
}

/** Creates a temporary root with an isolated git configuration. */
export async function createFixtureWorld(prefix = 'goproxy-e2e-'): Promise<FixtureWorld> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  const reposDir = join(root, 'repos');
  const homeDir = join(root, 'home');
  await mkdir(reposDir, { recursive: true });
  await mkdir(homeDir, { recursive: true });
  await writeFile(
    join(homeDir, '.gitconfig'),
    [
      '[user]',
      `\tname = ${AUTHOR.name}`,
      `\temail = ${AUTHOR.email}`,
      '[init]',
      '\tdefaultBranch = main',
      `[url "file://${reposDir}/"]`,
      '\tinsteadOf = https://github.com/',
      '[protocol "file"]',
      '\tallow = always',
      '[advice]',
      '\tdetachedHead = false',
      '',
    ].join('\n'),
  );
  const gitEnv = cleanGitEnv(homeDir);
  const git = (args: string[], options: { cwd?: string; input?: string | Uint8Array } = {}) =>
    run('git', args, { env: gitEnv, cwd: options.cwd ?? root, input: options.input });
  let disposed = false;
  return {
    root,
    reposDir,
    homeDir,
    gitEnv,
    git,
    build: (spec) => buildRepo(spec, reposDir, gitEnv),
    async dispose() {
      if (disposed) return;
      disposed = true;
      await rm(root, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

/** The caller's environment minus everything git or go would pick up from the developer's setup. */
export function cleanGitEnv(homeDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (/^(GIT_|GO|CGO_|XDG_CONFIG_HOME$|NETRC$|SSL_CERT_)/.test(key)) continue;
    env[key] = value;
  }
  env.HOME = homeDir;
  env.GIT_CONFIG_NOSYSTEM = '1';
  env.GIT_TERMINAL_PROMPT = '0';
  env.LC_ALL = 'C';
  return env;
}

// ------------------------------------------------------------------------------------------------

async function buildRepo(spec: RepoSpec, reposDir: string, env: NodeJS.ProcessEnv): Promise<BuiltRepo> {
  const org = spec.org ?? DEFAULT_ORG;
  const gitdir = join(reposDir, org, spec.name);
  await rm(gitdir, { recursive: true, force: true });
  await mkdir(gitdir, { recursive: true });
  const defaultBranch = spec.defaultBranch ?? 'main';
  await run('git', ['init', '--bare', '--quiet', `--initial-branch=${defaultBranch}`, gitdir], { env });

  const labels = spec.commits.map((c, i) => c.label ?? `c${i + 1}`);
  if (new Set(labels).size !== labels.length) throw new Error(`${spec.name}: duplicate commit labels`);
  const labelIndex = new Map(labels.map((l, i) => [l, i]));
  const markOf = (label: string): string => {
    const i = labelIndex.get(label);
    if (i === undefined) throw new Error(`${spec.name}: unknown commit label ${label}`);
    return `:${i + 1}`;
  };

  const objects = spec.objects ?? 'packed';
  const split = objects === 'mixed' ? Math.max(1, Math.floor(spec.commits.length / 2)) : spec.commits.length;
  const marksFile = join(gitdir, 'fixture-marks');
  const tips = new Map<string, string>(); // branch → label of its tip (within fast-import streams)
  const streams: Buffer[] = [];
  for (const [lo, hi] of [
    [0, split],
    [split, spec.commits.length],
  ] as const) {
    if (lo >= hi) continue;
    const chunks: Buffer[] = [];
    for (let i = lo; i < hi; i++) {
      const commit = spec.commits[i]!;
      const label = labels[i]!;
      const branch = commit.branch ?? defaultBranch;
      const parents = commit.parents ?? (tips.has(branch) ? [tips.get(branch)!] : []);
      const ref = branch.startsWith('refs/') ? branch : `refs/heads/${branch}`;
      chunks.push(commitCommand(commit, ref, i + 1, parents.map(markOf)));
      tips.set(branch, label);
    }
    streams.push(Buffer.concat(chunks));
  }

  for (let s = 0; s < streams.length; s++) {
    const args = ['fast-import', '--quiet', '--force', '--done', `--export-marks=${marksFile}`];
    if (s > 0) args.push(`--import-marks=${marksFile}`);
    let packsBefore: string[] = [];
    const loose = objects === 'loose' || (objects === 'mixed' && s > 0);
    if (loose) packsBefore = await listPacks(gitdir);
    await run('git', args, { env, cwd: gitdir, input: Buffer.concat([streams[s]!, Buffer.from('done\n')]) });
    if (loose) await unpackNewPacks(gitdir, packsBefore, env);
  }

  const marks = await readMarks(marksFile);
  await rm(marksFile, { force: true });
  const oidOfLabel = (label: string): string => {
    const oid = marks.get(markOf(label));
    if (!oid) throw new Error(`${spec.name}: no commit for ${label}`);
    return oid;
  };

  // Tags (lightweight via update-ref, annotated via mktag with their own tagger dates).
  const refUpdates: string[] = [];
  for (let i = 0; i < spec.commits.length; i++) {
    for (const tag of spec.commits[i]!.tags ?? []) {
      const target = oidOfLabel(labels[i]!);
      if (typeof tag === 'string') {
        refUpdates.push(`create refs/tags/${tag} ${target}`);
      } else {
        const body =
          `object ${target}\ntype commit\ntag ${tag.name}\n` +
          `tagger ${AUTHOR.name} <${AUTHOR.email}> ${gitDate(tag.date)}\n\n${tag.message ?? tag.name}\n`;
        const tagOid = (await run('git', ['mktag'], { env, cwd: gitdir, input: body })).toString().trim();
        refUpdates.push(`create refs/tags/${tag.name} ${tagOid}`);
      }
    }
  }
  for (const [branch, label] of Object.entries(spec.branches ?? {})) {
    refUpdates.push(`update refs/heads/${branch} ${oidOfLabel(label)}`);
  }
  for (const [ref, label] of Object.entries(spec.refs ?? {})) {
    refUpdates.push(`update ${ref} ${oidOfLabel(label)}`);
  }
  if (refUpdates.length > 0) {
    await run('git', ['update-ref', '--stdin'], { env, cwd: gitdir, input: refUpdates.join('\n') + '\n' });
  }
  await run('git', ['symbolic-ref', 'HEAD', `refs/heads/${defaultBranch}`], { env, cwd: gitdir });

  const refsLayout = spec.refsLayout ?? 'loose';
  if (refsLayout !== 'loose') {
    await run('git', ['pack-refs', '--all', '--prune'], { env, cwd: gitdir });
    if (refsLayout === 'mixed') {
      const head = (await run('git', ['rev-parse', `refs/heads/${defaultBranch}`], { env, cwd: gitdir })).toString().trim();
      // Rewriting a packed ref through delete + create leaves it loose.
      await run('git', ['update-ref', '-d', `refs/heads/${defaultBranch}`], { env, cwd: gitdir });
      await run('git', ['update-ref', `refs/heads/${defaultBranch}`, head], { env, cwd: gitdir });
    }
  }
  if (spec.removeConfig) await rm(join(gitdir, 'config'), { force: true });

  const commits = new Map(labels.map((l) => [l, oidOfLabel(l)]));
  return {
    org,
    name: spec.name,
    fullPath: `${org}/${spec.name}`,
    modulePath: `${MODULE_HOST}/${org}/${spec.name}`,
    gitdir,
    commits,
    oid: oidOfLabel,
    short: (label) => oidOfLabel(label).slice(0, 12),
  };
}

function commitCommand(commit: CommitSpec, ref: string, mark: number, parentMarks: string[]): Buffer {
  const message = Buffer.from(commit.message ?? `commit ${mark}\n`);
  const parts: Buffer[] = [
    // A root commit must not continue whatever fast-import remembers for the branch.
    Buffer.from(parentMarks.length === 0 ? `reset ${ref}\n` : ''),
    Buffer.from(
      `commit ${ref}\nmark :${mark}\n` +
        `author ${AUTHOR.name} <${AUTHOR.email}> ${gitDate(commit.authorDate ?? commit.date)}\n` +
        `committer ${AUTHOR.name} <${AUTHOR.email}> ${gitDate(commit.date)}\n` +
        `data ${message.length}\n`,
    ),
    message,
    Buffer.from('\n'),
  ];
  const [first, ...merges] = parentMarks;
  if (first) parts.push(Buffer.from(`from ${first}\n`));
  for (const m of merges) parts.push(Buffer.from(`merge ${m}\n`));
  parts.push(Buffer.from('deleteall\n'));
  for (const [path, entry] of Object.entries(commit.tree)) {
    const quoted = quotePath(path);
    if (typeof entry === 'string' || entry instanceof Uint8Array) {
      parts.push(inlineBlob('100644', quoted, entry));
    } else if ('content' in entry) {
      parts.push(inlineBlob(entry.executable ? '100755' : '100644', quoted, entry.content));
    } else if ('symlink' in entry) {
      parts.push(inlineBlob('120000', quoted, entry.symlink));
    } else {
      if (!/^[0-9a-f]{40}$/.test(entry.gitlink)) throw new Error(`gitlink ${path}: need a 40-hex id`);
      parts.push(Buffer.from(`M 160000 ${entry.gitlink} ${quoted}\n`));
    }
  }
  parts.push(Buffer.from('\n'));
  return Buffer.concat(parts);
}

function inlineBlob(mode: string, quotedPath: string, content: FileContent): Buffer {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
  return Buffer.concat([Buffer.from(`M ${mode} inline ${quotedPath}\ndata ${bytes.length}\n`), bytes, Buffer.from('\n')]);
}

/** C-style quoting understood by fast-import; non-ASCII bytes go through as raw UTF-8. */
function quotePath(path: string): string {
  if (path === '' || path.startsWith('/') || path.endsWith('/') || path.includes('//')) {
    throw new Error(`fixture path ${JSON.stringify(path)} is not a clean relative path`);
  }
  return '"' + path.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') + '"';
}

/** `2021-01-04T10:00:00+02:00` → `1609747200 +0200` (git's raw date format). */
export function gitDate(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(Z|[+-]\d{2}:\d{2})$/.exec(iso);
  if (!m) throw new Error(`date ${iso}: expected YYYY-MM-DDTHH:MM:SS(Z|±HH:MM)`);
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`date ${iso}: not a date`);
  const zone = m[7] === 'Z' ? '+0000' : m[7]!.replace(':', '');
  return `${Math.floor(ms / 1000)} ${zone}`;
}

/** `2021-01-04T10:00:00+02:00` → `20210104080000` (the UTC timestamp used in pseudo-versions). */
export function pseudoTimestamp(iso: string): string {
  return new Date(Date.parse(iso)).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** `2021-01-04T10:00:00+02:00` → `2021-01-04T08:00:00Z` (the `.info` Time direct mode writes). */
export function utcTime(iso: string): string {
  return new Date(Date.parse(iso)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

async function listPacks(gitdir: string): Promise<string[]> {
  try {
    return (await readdir(join(gitdir, 'objects', 'pack'))).filter((f) => f.endsWith('.pack'));
  } catch {
    return [];
  }
}

async function unpackNewPacks(gitdir: string, before: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const packDir = join(gitdir, 'objects', 'pack');
  for (const pack of await listPacks(gitdir)) {
    if (before.includes(pack)) continue;
    const base = pack.slice(0, -'.pack'.length);
    const moved = join(gitdir, `fixture-${pack}`);
    await rename(join(packDir, pack), moved);
    for (const ext of ['.idx', '.rev', '.keep']) await rm(join(packDir, base + ext), { force: true });
    await run('git', ['unpack-objects', '-q'], { env, cwd: gitdir, input: await readFile(moved) });
    await rm(moved, { force: true });
  }
}

async function readMarks(file: string): Promise<Map<string, string>> {
  const marks = new Map<string, string>();
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    const [mark, oid] = line.split(' ');
    if (mark && oid) marks.set(mark, oid);
  }
  return marks;
}

export interface RunResult {
  stdout: Buffer;
  stderr: Buffer;
  code: number | null;
}

/** Runs a command, resolving stdout; rejects with stderr in the message when it fails. */
export async function run(
  cmd: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; input?: string | Uint8Array | undefined },
): Promise<Buffer> {
  const result = await runCapture(cmd, args, options);
  if (result.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${result.code}: ${result.stderr.toString().trim()}`);
  }
  return result.stdout;
}

/** Runs a command and captures everything; never rejects because of the exit code. */
export function runCapture(
  cmd: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; input?: string | Uint8Array | undefined; timeoutMs?: number },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: options.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    if (options.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err), code });
    });
    child.stdin.on('error', () => undefined); // the child may exit before reading its input
    child.stdin.end(options.input ?? '');
  });
}
