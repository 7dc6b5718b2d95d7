import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { crc32, deflateRawSync, deflateSync } from 'node:zlib';

/**
 * Builds git repositories with the git CLI in temp dirs, for tests of the object-access layer.
 * Everything is deterministic: no system or user config, fixed identities and dates.
 */

export const BASE_TIME = 1_700_000_000;

export interface GitRunner {
  /** Runs git in `cwd` and returns stdout as a Buffer. */
  raw(args: string[], options?: { input?: string | Buffer; time?: number; cwd?: string }): Buffer;
  /** Runs git and returns trimmed stdout text. */
  text(args: string[], options?: { input?: string | Buffer; time?: number; cwd?: string }): string;
}

export interface SampleRepo extends GitRunner {
  /** The work tree (or the bare repository itself). */
  dir: string;
  gitdir: string;
}

export interface Sandbox {
  root: string;
  /** A new directory inside the sandbox. */
  mkdir(name: string): string;
  /** A runner whose default cwd is `cwd`. */
  runner(cwd: string): GitRunner;
  /** `git init` (work tree with .git, or bare), branch main, no auto gc. */
  init(name: string, options?: { bare?: boolean }): SampleRepo;
  cleanup(): void;
}

export function createSandbox(): Sandbox {
  const root = mkdtempSync(join(tmpdir(), 'git-sample-'));
  const home = join(root, '.home');
  mkdirSync(home);
  const baseEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: join(home, '.gitconfig'),
    LANG: 'C',
    LC_ALL: 'C',
    TZ: 'UTC',
    GIT_AUTHOR_NAME: 'A U Thor',
    GIT_AUTHOR_EMAIL: 'author@example.com',
    GIT_COMMITTER_NAME: 'C O Mitter',
    GIT_COMMITTER_EMAIL: 'committer@example.com',
  };
  writeFileSync(join(home, '.gitconfig'), '[gc]\n\tauto = 0\n[init]\n\tdefaultBranch = main\n[core]\n\tquotePath = false\n');

  function runner(cwd: string): GitRunner {
    const raw: GitRunner['raw'] = (args, options = {}) => {
      const time = options.time ?? BASE_TIME;
      const env = { ...baseEnv, GIT_AUTHOR_DATE: `${time} +0000`, GIT_COMMITTER_DATE: `${time} +0000` };
      return execFileSync('git', args, {
        cwd: options.cwd ?? cwd,
        env,
        input: options.input,
        maxBuffer: 256 * 1024 * 1024,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    };
    return { raw, text: (args, options) => raw(args, options).toString('utf8').trim() };
  }

  return {
    root,
    mkdir(name) {
      const dir = join(root, name);
      mkdirSync(dir, { recursive: true });
      return dir;
    },
    runner,
    init(name, options = {}) {
      const dir = join(root, name);
      mkdirSync(dir, { recursive: true });
      const git = runner(dir);
      git.raw(options.bare ? ['init', '-q', '--bare'] : ['init', '-q']);
      return { ...git, dir, gitdir: options.bare ? dir : join(dir, '.git') };
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Writes a file below the repo's work tree, creating directories. */
export function writeWorkFile(repo: SampleRepo, path: string, content: string | Buffer): void {
  const full = join(repo.dir, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, content);
}

/** `git add -A && git commit` at a fixed time; returns the commit id. */
export function commitAll(repo: SampleRepo, message: string, time: number): string {
  repo.raw(['add', '-A']);
  repo.raw(['commit', '-q', '--allow-empty', '-m', message], { time });
  return repo.text(['rev-parse', 'HEAD']);
}

export interface CatFileObject {
  oid: string;
  type: string;
  data: Buffer;
}

/** Every object in the repository, read by `git cat-file --batch`. */
export function catAllObjects(git: GitRunner): CatFileObject[] {
  const list = git.text(['cat-file', '--batch-all-objects', '--batch-check=%(objectname)']);
  if (list === '') return [];
  return catObjects(git, list.split('\n'));
}

export function catObjects(git: GitRunner, oids: string[]): CatFileObject[] {
  const out = git.raw(['cat-file', '--batch'], { input: `${oids.join('\n')}\n` });
  const objects: CatFileObject[] = [];
  let pos = 0;
  while (pos < out.length) {
    const eol = out.indexOf(0x0a, pos);
    const [oid, type, size] = out.toString('latin1', pos, eol).split(' ');
    if (type === 'missing' || oid === undefined || type === undefined || size === undefined) {
      throw new Error(`cat-file: ${out.toString('latin1', pos, eol)}`);
    }
    const start = eol + 1;
    objects.push({ oid, type, data: out.subarray(start, start + Number(size)) });
    pos = start + Number(size) + 1;
  }
  return objects;
}

/** Runs `git fast-import` with a stream built by the caller. */
export function fastImport(git: GitRunner, stream: string | Buffer): void {
  git.raw(['-c', 'fastimport.unpackLimit=0', 'fast-import', '--quiet', '--done'], { input: stream });
}

/**
 * A fast-import stream with `count` commits on refs/heads/main, each changing one line of
 * `file.txt` (a file of `lines` lines), so a repack makes a long delta chain.
 */
export function deltaChainStream(count: number, lines = 200): string {
  const content = Array.from({ length: lines }, (_, i) => `line ${i} of a file that changes a little in each commit`);
  let stream = '';
  for (let c = 0; c < count; c++) {
    content[(c * 7) % lines] = `line ${(c * 7) % lines} changed in commit ${c}`;
    const data = `${content.join('\n')}\n`;
    const message = `commit ${c}\n`;
    stream += `commit refs/heads/main\nmark :${c + 1}\n`;
    stream += `committer C O Mitter <committer@example.com> ${BASE_TIME + c * 60} +0000\n`;
    stream += `data ${Buffer.byteLength(message)}\n${message}`;
    if (c > 0) stream += `from :${c}\n`;
    stream += `M 100644 inline file.txt\ndata ${Buffer.byteLength(data)}\n${data}\n`;
  }
  return `${stream}done\n`;
}

/** The object id git gives `data` as an object of `type`. */
export function objectId(type: string, data: Buffer): string {
  return createHash('sha1').update(`${type} ${data.length}\0`).update(data).digest('hex');
}

function encodeSize(n: number): Buffer {
  const bytes: number[] = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    bytes.push(byte);
  } while (n > 0);
  return Buffer.from(bytes);
}

/** A delta that copies all of `base` and appends `suffix`. */
export function appendDelta(base: Buffer, suffix: Buffer): Buffer {
  if (base.length === 0 || base.length > 0xffffff || suffix.length === 0 || suffix.length > 127) {
    throw new Error('appendDelta: unsupported sizes');
  }
  const copy = [0x80 | 0x01 | 0x10 | 0x20 | 0x40, 0, base.length & 0xff, (base.length >> 8) & 0xff, (base.length >> 16) & 0xff];
  return Buffer.concat([
    encodeSize(base.length),
    encodeSize(base.length + suffix.length),
    Buffer.from(copy),
    Buffer.from([suffix.length]),
    suffix,
  ]);
}

export interface RawPackEntry {
  /** The object id this entry produces (for the index). */
  oid: string;
  /** 1 commit, 2 tree, 3 blob, 4 tag, 7 REF_DELTA (OFS_DELTA is not needed by the tests). */
  typeCode: 1 | 2 | 3 | 4 | 7;
  /** Object content, or the delta for REF_DELTA. */
  data: Buffer;
  baseOid?: string;
  /** The zlib stream to store instead of deflating `data` (to test unusual streams). */
  compressed?: Buffer;
}

/**
 * Writes a pack and its version-2 index by hand, for cases git will not produce on its own,
 * such as a REF_DELTA whose base lives outside the pack. Returns the pack name.
 */
export function writeRawPack(packDir: string, entries: RawPackEntry[]): string {
  const header = Buffer.alloc(12);
  header.write('PACK', 0, 'latin1');
  header.writeUInt32BE(2, 4);
  header.writeUInt32BE(entries.length, 8);
  const parts: Buffer[] = [header];
  let offset = 12;
  const rows: Array<{ oid: string; offset: number; crc: number }> = [];
  for (const entry of entries) {
    const size = entry.data.length;
    const head: number[] = [];
    let byte = (entry.typeCode << 4) | (size & 0x0f);
    let rest = Math.floor(size / 16);
    while (rest > 0) {
      head.push(byte | 0x80);
      byte = rest & 0x7f;
      rest = Math.floor(rest / 128);
    }
    head.push(byte);
    const raw = Buffer.concat([
      Buffer.from(head),
      entry.typeCode === 7 ? Buffer.from(entry.baseOid!, 'hex') : Buffer.alloc(0),
      entry.compressed ?? deflateSync(entry.data),
    ]);
    rows.push({ oid: entry.oid, offset, crc: crc32(raw) });
    parts.push(raw);
    offset += raw.length;
  }
  const body = Buffer.concat(parts);
  const packSum = createHash('sha1').update(body).digest();
  const pack = Buffer.concat([body, packSum]);

  rows.sort((a, b) => (a.oid < b.oid ? -1 : 1));
  const fanout = Buffer.alloc(1024);
  for (let b = 0; b < 256; b++) fanout.writeUInt32BE(rows.filter((r) => parseInt(r.oid.slice(0, 2), 16) <= b).length, b * 4);
  const names = Buffer.concat(rows.map((r) => Buffer.from(r.oid, 'hex')));
  const crcs = Buffer.alloc(rows.length * 4);
  const offsets = Buffer.alloc(rows.length * 4);
  rows.forEach((r, i) => {
    crcs.writeUInt32BE(r.crc, i * 4);
    offsets.writeUInt32BE(r.offset, i * 4);
  });
  const idxBody = Buffer.concat([Buffer.from([0xff, 0x74, 0x4f, 0x63, 0, 0, 0, 2]), fanout, names, crcs, offsets, packSum]);
  const idx = Buffer.concat([idxBody, createHash('sha1').update(idxBody).digest()]);
  const name = `pack-${packSum.toString('hex')}`;
  mkdirSync(packDir, { recursive: true });
  writeFileSync(join(packDir, `${name}.pack`), pack);
  writeFileSync(join(packDir, `${name}.idx`), idx);
  return name;
}

export interface RichRepo extends SampleRepo {
  commits: { c1: string; c2: string; c3: string; c4: string; merge: string; odd: string; loose: string };
  /** A blob whose name in the odd tree is not valid UTF-8. */
  oddTree: string;
}

/** Deterministic pseudo-random text, so big files deltify and compress like real ones. */
export function pseudoText(seed: number, bytes: number): string {
  let x = seed >>> 0 || 1;
  const words = ['alpha', 'beta', 'gamma', 'delta', 'func', 'return', 'package', 'import', 'error', 'nil'];
  let out = '';
  while (out.length < bytes) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out += words[x % words.length] + (x % 11 === 0 ? '\n' : ' ');
  }
  return out.slice(0, bytes);
}

/**
 * A repository with most things the proxy meets: nested trees, an executable, a symlink, a
 * UTF-8 name, an empty file, a larger file, a merge, a branch, lightweight and annotated tags
 * (also on a tree, on a blob, and a tag of a tag), a tree with a non-UTF-8 name and a gitlink,
 * packed refs with peeled lines, then more loose objects and loose refs on top.
 */
export function buildRichRepo(sandbox: Sandbox, name = 'rich'): RichRepo {
  const repo = sandbox.init(name);
  let t = BASE_TIME;
  writeWorkFile(repo, 'README.md', '# sample\n');
  writeWorkFile(repo, 'go.mod', 'module example.com/sample\n\ngo 1.21\n');
  writeWorkFile(repo, 'dir/a.go', 'package dir\n\nfunc A() int { return 1 }\n');
  writeWorkFile(repo, 'dir/sub/b.go', 'package sub\n');
  writeWorkFile(repo, 'empty.txt', '');
  writeWorkFile(repo, 'héllo wörld.txt', 'unicode name\n');
  writeWorkFile(repo, 'exec.sh', '#!/bin/sh\necho hi\n');
  chmodSync(join(repo.dir, 'exec.sh'), 0o755);
  repo.raw(['symbolic-ref', 'HEAD', 'refs/heads/main']);
  execFileSync('ln', ['-s', 'README.md', join(repo.dir, 'link')]);
  const c1 = commitAll(repo, 'first', (t += 60));
  writeWorkFile(repo, 'dir/a.go', 'package dir\n\nfunc A() int { return 2 }\n');
  writeWorkFile(repo, 'big.txt', pseudoText(7, 300_000));
  const c2 = commitAll(repo, 'second', (t += 60));
  repo.raw(['checkout', '-q', '-b', 'feature']);
  writeWorkFile(repo, 'feature.txt', 'feature\n');
  writeWorkFile(repo, 'big.txt', pseudoText(7, 300_000).replace('alpha', 'ALPHA'));
  const c3 = commitAll(repo, 'feature work', (t += 60));
  repo.raw(['checkout', '-q', 'main']);
  writeWorkFile(repo, 'main.txt', 'main\n');
  const c4 = commitAll(repo, 'main work', (t += 60));
  repo.raw(['merge', '-q', '--no-ff', '-m', 'merge feature', 'feature'], { time: (t += 60) });
  const merge = repo.text(['rev-parse', 'HEAD']);

  repo.raw(['tag', 'v1.0.0', c1]);
  repo.raw(['tag', '-a', '-m', 'release 1.1.0', 'v1.1.0', c2], { time: (t += 60) });
  repo.raw(['tag', '-a', '-m', 'release 1.2.0', 'v1.2.0', merge], { time: (t += 60) });
  repo.raw(['tag', '-a', '-m', 'tag of a tag', 'v1.2.0-signed', 'v1.2.0'], { time: (t += 60) });
  repo.raw(['tag', '-a', '-m', 'a tree', 'tree-tag', `${c1}^{tree}`], { time: (t += 60) });
  repo.raw(['tag', '-a', '-m', 'a blob', 'blob-tag', `${c1}:README.md`], { time: (t += 60) });
  repo.raw(['tag', 'blob-light', `${c1}:go.mod`]);
  repo.raw(['tag', 'nested/path/v2.0.0', c4]);

  // A tree git's porcelain would not make: a name that is not UTF-8, and a gitlink.
  const blob = repo.text(['hash-object', '-w', '--stdin'], { input: 'odd\n' });
  const listing = Buffer.concat([
    Buffer.from(`100644 blob ${blob}\tbad-`),
    Buffer.from([0xff, 0xfe]),
    Buffer.from(`.txt\n160000 commit ${c1}\tsubmodule\n040000 tree ${repo.text(['rev-parse', `${c1}^{tree}`])}\tcopy\n`),
  ]);
  const oddTree = repo.text(['mktree', '--missing'], { input: listing });
  const odd = repo.text(['commit-tree', oddTree, '-p', c1, '-m', 'odd tree'], { time: (t += 60) });
  repo.raw(['update-ref', 'refs/heads/odd', odd]);
  repo.raw(['update-ref', 'refs/pull/1/head', c3]);

  repo.raw(['repack', '-a', '-d', '-q']);
  repo.raw(['pack-refs', '--all']);

  // Loose objects and loose refs on top of the pack.
  writeWorkFile(repo, 'later.txt', 'added after packing\n');
  writeWorkFile(repo, 'dir/a.go', 'package dir\n\nfunc A() int { return 3 }\n');
  const loose = commitAll(repo, 'after packing', (t += 60));
  repo.raw(['tag', '-a', '-m', 'loose annotated', 'v1.3.0', loose], { time: (t += 60) });
  repo.raw(['tag', 'v1.3.1-light', loose]);
  repo.raw(['branch', 'topic/deep/branch', c2]);
  // Moves a packed branch with a loose ref that overrides it.
  repo.raw(['branch', '-f', 'feature', c4]);
  return { ...repo, commits: { c1, c2, c3, c4, merge, odd, loose }, oddTree };
}

/** A byte-for-byte copy of a repository (refs layout, packs and loose objects included). */
export function copyRepo<T extends SampleRepo>(sandbox: Sandbox, repo: T, name: string): T {
  const dir = join(sandbox.root, name);
  cpSync(repo.dir, dir, { recursive: true, verbatimSymlinks: true });
  const gitdir = repo.gitdir === repo.dir ? dir : join(dir, '.git');
  return { ...repo, ...sandbox.runner(dir), dir, gitdir };
}

/**
 * A valid zlib stream for `data` that starts with `emptyBlocks` empty stored blocks, so its first
 * few hundred bytes inflate to nothing (as a very large block header could).
 */
export function paddedZlib(data: Buffer, emptyBlocks: number): Buffer {
  const empty = Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]); // non-final stored block, LEN 0
  let a = 1;
  let b = 0;
  for (const byte of data) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE(((b << 16) | a) >>> 0);
  return Buffer.concat([Buffer.from([0x78, 0x01]), ...Array.from({ length: emptyBlocks }, () => empty), deflateRawSync(data), adler]);
}
