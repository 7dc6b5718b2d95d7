/**
 * Generates the benchmark's large repository, reproducibly (seeded PRNG, fixed dates), with the
 * git CLI: `git fast-import` writes the history quickly, `git repack -a -d -f` turns it into one
 * big deltified pack as a server would hold it, and a last stretch of history is exploded into
 * loose objects with loose refs, as happens between two `git gc` runs.
 *
 * Shape (defaults): ~15k files in ~1.5k leaf directories (~100 MB per version, source-like text
 * plus some incompressible testdata), 3,000 commits, 2,000 tags (two thirds annotated) of which
 * 125 belong to three nested modules, and 5,000 `refs/merge-requests/<n>/head` refs in
 * `packed-refs`, as GitLab keeps them. Built once into a cache folder and reused.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanGitEnv, run } from '../helpers/fixtures.js';
import { seededRandom } from '../helpers/seeded-random.js';

/** Bump when the shape changes: the cache folder is keyed by it. */
export const GENERATOR_VERSION = 2;

export interface LargeRepoOptions {
  /** Cache folder; the repository is `<cacheDir>/large-v<N>/repo.git`. */
  cacheDir: string;
  /** Build again even if a finished copy exists. Defaults to false. */
  force?: boolean;
  /** Progress lines. Defaults to none. */
  log?: (line: string) => void;
}

export interface NestedModule {
  /** Directory in the repository, which is also the tag prefix. */
  dir: string;
  modulePath: string;
  /** Highest tagged version. */
  latest: string;
}

export interface LargeRepo {
  gitdir: string;
  /** `github.com`: module paths are `<modulePrefix>/<projectPath>[/<dir>]`. */
  modulePrefix: string;
  projectPath: string;
  modulePath: string;
  /** Highest tagged version of the root module (the default one to benchmark). */
  latest: string;
  /** An older root version, for a second cache-miss zip in the same server. */
  older: string;
  nested: NestedModule[];
  stats: {
    commits: number;
    tags: number;
    annotatedTags: number;
    otherRefs: number;
    filesAtTip: number;
    bytesAtTip: number;
    looseCommits: number;
  };
  /** Seconds the build took (0 when reused). */
  buildSeconds: number;
}

const SHAPE = {
  topDirs: 15,
  midDirs: 10,
  leafDirs: 10,
  filesPerLeaf: 10,
  commits: 3_000,
  looseCommits: 40,
  editsPerCommit: 4,
  /** Every n-th commit adds a file. */
  addEvery: 10,
  mergeRequestRefs: 5_000,
  /** A 1 MiB incompressible asset rewritten every n-th commit, then deleted: a big pack, small versions. */
  assetEvery: 12,
  assetBytes: 1024 * 1024,
  assetDeletedAt: 2_900,
  seed: 0x5eed,
  startTime: Date.UTC(2019, 0, 1) / 1000,
};

const MODULE_PREFIX = 'github.com';
const PROJECT_PATH = 'bench/large';
const MODULE_PATH = `${MODULE_PREFIX}/${PROJECT_PATH}`;
const NESTED = [
  { dir: 'tools', files: 120, major: 0 },
  { dir: 'api', files: 150, major: 1 },
  { dir: 'plugins/auth', files: 80, major: 0 },
] as const;

const ASSET = 'assets/bundle.dat';

class TextSource {
  private readonly lines: string[];
  constructor(private readonly rand: () => number) {
    const words = Array.from({ length: 600 }, () => this.word());
    const pick = (): string => words[Math.floor(rand() * words.length)]!;
    const cap = (w: string): string => w[0]!.toUpperCase() + w.slice(1);
    const templates: Array<() => string> = [
      () => `\tif err := ${pick()}.${cap(pick())}(ctx, ${pick()}); err != nil {`,
      () => `\t\treturn nil, fmt.Errorf("${pick()} ${pick()}: %w", err)`,
      () => '\t}',
      () => `\t${pick()} := make(map[string]${cap(pick())}, len(${pick()}))`,
      () => `func (${pick()[0]} *${cap(pick())}) ${cap(pick())}(${pick()} ${cap(pick())}) (${cap(pick())}, error) {`,
      () => `\tfor _, ${pick()} := range ${pick()}.${cap(pick())} {`,
      () => `// ${cap(pick())} ${pick()} the ${pick()} of ${pick()} when ${pick()} is ${pick()}.`,
      () => `\t${pick()}.${cap(pick())} = append(${pick()}.${cap(pick())}, ${pick()})`,
      () => `type ${cap(pick())} struct {\n\t${cap(pick())} string \`json:"${pick()}"\`\n\t${cap(pick())} int64\n}`,
      () => '',
      () => `\treturn ${pick()}, nil`,
      () => `\tcase ${cap(pick())}${cap(pick())}:`,
    ];
    this.lines = Array.from({ length: 6_000 }, () => templates[Math.floor(rand() * templates.length)]!());
  }

  private word(): string {
    const syllables = [
      'ka',
      're',
      'to',
      'mi',
      'sa',
      'lo',
      'ver',
      'in',
      'dex',
      'pro',
      'ce',
      'ss',
      'han',
      'dle',
      'buf',
      'fer',
      'node',
      'tree',
    ];
    let w = '';
    const n = 2 + Math.floor(this.rand() * 3);
    for (let i = 0; i < n; i++) w += syllables[Math.floor(this.rand() * syllables.length)]!;
    return w;
  }

  line(): string {
    return this.lines[Math.floor(this.rand() * this.lines.length)]!;
  }

  /** Runs of consecutive dictionary lines: repetitive like real code, ~4:1 under deflate. */
  file(header: string, size: number): Buffer {
    const parts = [header];
    let length = header.length;
    while (length < size) {
      const start = Math.floor(this.rand() * this.lines.length);
      const run = 3 + Math.floor(this.rand() * 15);
      for (let i = 0; i < run && length < size; i++) {
        const l = this.lines[(start + i) % this.lines.length]!;
        parts.push(l, '\n');
        length += l.length + 1;
      }
    }
    return Buffer.from(parts.join(''));
  }
}

function randomBytesFrom(rand: () => number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i += 4) out.writeUInt32LE(Math.floor(rand() * 4294967296), Math.min(i, length - 4));
  return out;
}

/** Log-normal sizes: median ~4 KB, mean ~6.5 KB, capped, like a Go repository's files. */
function fileSize(rand: () => number): number {
  const u = Math.max(rand(), 1e-9);
  const v = rand();
  const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return Math.min(300_000, Math.max(40, Math.round(Math.exp(8.3 + 1.0 * normal))));
}

interface Tag {
  name: string;
  commit: number;
  annotated: boolean;
}

/** Writes fast-import commands to git's stdin, waiting for the pipe to drain. */
class FastImport {
  private readonly child;
  private readonly done: Promise<void>;
  constructor(gitdir: string, env: NodeJS.ProcessEnv) {
    this.child = spawn('git', ['fast-import', '--quiet', '--done', '--depth=50'], { cwd: gitdir, env, stdio: ['pipe', 'inherit', 'pipe'] });
    const stderr: Buffer[] = [];
    this.child.stderr.on('data', (d: Buffer) => stderr.push(d));
    this.done = new Promise((resolve, reject) => {
      this.child.on('error', reject);
      this.child.on('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`git fast-import exited ${code}: ${Buffer.concat(stderr).toString()}`)),
      );
    });
  }

  async write(chunk: string | Buffer): Promise<void> {
    if (!this.child.stdin.write(chunk)) await new Promise<void>((r) => this.child.stdin.once('drain', () => r()));
  }

  async data(content: string | Buffer): Promise<void> {
    const bytes = typeof content === 'string' ? Buffer.from(content) : content;
    await this.write(`data ${bytes.length}\n`);
    await this.write(bytes);
    await this.write('\n');
  }

  async finish(): Promise<void> {
    this.child.stdin.end('done\n');
    await this.done;
  }
}

function semverCompare(a: string, b: string): number {
  const pa = a.replace(/^v/, '').split('.').map(Number);
  const pb = b.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i]! !== pb[i]!) return pa[i]! - pb[i]!;
  return 0;
}

/** Ensures the repository exists in the cache folder (building it if needed) and describes it. */
export async function ensureLargeRepo(options: LargeRepoOptions): Promise<LargeRepo> {
  const log = options.log ?? (() => undefined);
  const dir = join(options.cacheDir, `large-v${GENERATOR_VERSION}`);
  const gitdir = join(dir, 'repo.git');
  const manifestFile = join(dir, 'manifest.json');
  if (!options.force && existsSync(manifestFile) && existsSync(gitdir)) {
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as LargeRepo;
    return { ...manifest, gitdir, buildSeconds: 0 };
  }
  const started = performance.now();
  await mkdir(dir, { recursive: true });
  const building = join(dir, 'repo.git.building');
  await rm(building, { recursive: true, force: true });
  await rm(gitdir, { recursive: true, force: true });
  const home = join(dir, 'home');
  await mkdir(home, { recursive: true });
  await writeFile(join(home, '.gitconfig'), '[user]\n\tname = Bench\n\temail = bench@example.com\n');
  const env = cleanGitEnv(home);
  await run('git', ['init', '--bare', '--quiet', '--initial-branch=main', building], { env });

  const rand = seededRandom(SHAPE.seed);
  const text = new TextSource(rand);
  const files = new Map<string, Buffer>();
  const header = (path: string): string =>
    `// Code generated for the benchmark: ${path}\n\npackage ${path
      .split('/')
      .at(-2)!
      .replace(/[^a-z0-9]/g, '')}\n\n`;

  // The tree at the first commit.
  for (let t = 0; t < SHAPE.topDirs; t++) {
    for (let m = 0; m < SHAPE.midDirs; m++) {
      for (let l = 0; l < SHAPE.leafDirs; l++) {
        const leaf = `pkg${String.fromCharCode(97 + t)}/m${m}/l${l}`;
        for (let f = 0; f < SHAPE.filesPerLeaf; f++) {
          if ((t * 1000 + m * 100 + l * 10 + f) % 97 === 0) {
            // Incompressible testdata exercises the store path of the zip writers.
            files.set(`${leaf}/testdata/blob${f}.bin`, randomBytesFrom(rand, 4096 + Math.floor(rand() * 60_000)));
            continue;
          }
          const path = `${leaf}/file${f}.go`;
          files.set(path, text.file(header(path), fileSize(rand)));
        }
      }
    }
  }
  for (const nested of NESTED) {
    const modulePath = `${MODULE_PATH}/${nested.dir}`;
    files.set(`${nested.dir}/go.mod`, Buffer.from(`module ${modulePath}\n\ngo 1.19\n`));
    for (let f = 0; f < nested.files; f++) {
      const path = `${nested.dir}/sub${f % 7}/n${f}.go`;
      files.set(path, text.file(header(path), fileSize(rand)));
    }
  }
  files.set('go.mod', Buffer.from(`module ${MODULE_PATH}\n\ngo 1.19\n`));
  files.set(
    'LICENSE',
    Buffer.from(
      'Copyright 2019 The Bench Authors. Permission is hereby granted, free of charge, to any person obtaining a copy of this software.\n',
    ),
  );
  files.set('README.md', Buffer.from('# large\n\nA generated repository for benchmarks.\n'));
  const paths = [...files.keys()].filter((p) => p.endsWith('.go') && !p.endsWith('go.mod'));

  // Which commits get which tags.
  const tags: Tag[] = [];
  const versionCounters = new Map<string, number>();
  let tagIndex = 0;
  for (let c = 0; c < SHAPE.commits; c++) {
    if (c % 3 === 1) continue;
    const nested = tagIndex % 16 === 15 ? NESTED[Math.floor(tagIndex / 16) % NESTED.length]! : null;
    const key = nested?.dir ?? '';
    const n = versionCounters.get(key) ?? 0;
    versionCounters.set(key, n + 1);
    const major = nested ? nested.major : 1;
    const version = `v${major}.${Math.floor(n / 20)}.${n % 20}`;
    tags.push({ name: nested ? `${nested.dir}/${version}` : version, commit: c, annotated: tagIndex % 3 !== 0 });
    tagIndex++;
  }
  const tagsByCommit = new Map<number, Tag[]>();
  for (const tag of tags) tagsByCommit.set(tag.commit, [...(tagsByCommit.get(tag.commit) ?? []), tag]);

  const person = (c: number): string => `Bench <bench@example.com> ${SHAPE.startTime + c * 3600} +0000`;
  const packedCommits = SHAPE.commits - SHAPE.looseCommits;
  let addCounter = 0;

  async function writeCommits(fi: FastImport, from: number, to: number, parent: string | null): Promise<void> {
    for (let c = from; c < to; c++) {
      const changed = new Map<string, Buffer>();
      if (c === 0) {
        for (const [p, b] of files) changed.set(p, b);
      } else {
        for (let e = 0; e < SHAPE.editsPerCommit; e++) {
          const path = paths[Math.floor(rand() * paths.length)]!;
          const old = changed.get(path) ?? files.get(path)!;
          // Insert a line somewhere: the new blob deltas well against the old one.
          const at = old.indexOf(10, Math.floor(rand() * old.length));
          const cut = at < 0 ? old.length : at + 1;
          changed.set(path, Buffer.concat([old.subarray(0, cut), Buffer.from(`${text.line()} // r${c}\n`), old.subarray(cut)]));
        }
        if (c % SHAPE.assetEvery === 0 && c < SHAPE.assetDeletedAt) changed.set(ASSET, randomBytesFrom(rand, SHAPE.assetBytes));
        if (c % SHAPE.addEvery === 0) {
          const base = paths[Math.floor(rand() * paths.length)]!;
          const path = `${base.slice(0, base.lastIndexOf('/'))}/added${addCounter++}.go`;
          changed.set(path, text.file(header(path), fileSize(rand)));
          paths.push(path);
        }
      }
      const message = `change ${c}\n`;
      await fi.write(`commit refs/heads/main\nmark :${c + 1}\nauthor ${person(c)}\ncommitter ${person(c)}\n`);
      await fi.data(message);
      if (c === from && parent) await fi.write(`from ${parent}\n`);
      if (c === SHAPE.assetDeletedAt) {
        files.delete(ASSET);
        await fi.write(`D ${ASSET}\n`);
      }
      for (const [path, content] of changed) {
        files.set(path, content);
        await fi.write(`M 100644 inline ${path}\n`);
        await fi.data(content);
      }
      await fi.write('\n');
      for (const tag of tagsByCommit.get(c) ?? []) {
        if (tag.annotated) {
          await fi.write(`tag ${tag.name}\nfrom :${c + 1}\ntagger ${person(c)}\n`);
          await fi.data(`Release ${tag.name}\n`);
        } else {
          await fi.write(`reset refs/tags/${tag.name}\nfrom :${c + 1}\n\n`);
        }
      }
      if (c % 200 === 0) log(`  commit ${c}/${SHAPE.commits}`);
    }
  }

  log(`generating ${files.size} files, ${SHAPE.commits} commits, ${tags.length} tags with git fast-import…`);
  const first = new FastImport(building, env);
  await writeCommits(first, 0, packedCommits, null);
  for (let r = 1; r <= SHAPE.mergeRequestRefs; r++) {
    await first.write(`reset refs/merge-requests/${r}/head\nfrom :${1 + Math.floor(rand() * packedCommits)}\n\n`);
  }
  await first.finish();

  log('repacking into one pack (git repack -a -d -f --depth=50 --window=10)…');
  // Random assets never delta; skipping the search keeps the build in minutes.
  await writeFile(join(building, 'info', 'attributes'), '*.dat -delta\n');
  await run('git', ['-c', 'pack.writeReverseIndex=true', 'repack', '-a', '-d', '-f', '-q', '--depth=50', '--window=10'], {
    env,
    cwd: building,
  });
  await run('git', ['pack-refs', '--all', '--prune'], { env, cwd: building });

  log(`writing the last ${SHAPE.looseCommits} commits as loose objects…`);
  const tip = (await run('git', ['rev-parse', 'refs/heads/main'], { env, cwd: building })).toString().trim();
  const packDir = join(building, 'objects', 'pack');
  const before = new Set(await readdir(packDir));
  const second = new FastImport(building, env);
  await writeCommits(second, packedCommits, SHAPE.commits, tip);
  await second.finish();
  for (const name of await readdir(packDir)) {
    if (before.has(name) || !name.endsWith('.pack')) continue;
    const base = name.slice(0, -'.pack'.length);
    const moved = join(dir, `${base}.pack`);
    await rename(join(packDir, name), moved);
    for (const ext of ['.idx', '.rev']) await rm(join(packDir, base + ext), { force: true });
    await run('sh', ['-c', 'git unpack-objects -q < "$1"', 'sh', moved], { env, cwd: building });
    await rm(moved);
  }
  await run('git', ['symbolic-ref', 'HEAD', 'refs/heads/main'], { env, cwd: building });

  const rootVersions = tags
    .filter((t) => !t.name.includes('/'))
    .map((t) => t.name)
    .sort(semverCompare);
  const latestFiles = [...files.keys()].filter((p) => !NESTED.some((n) => p.startsWith(`${n.dir}/`)));
  const manifest: LargeRepo = {
    gitdir,
    modulePrefix: MODULE_PREFIX,
    projectPath: PROJECT_PATH,
    modulePath: MODULE_PATH,
    latest: rootVersions.at(-1)!,
    older: rootVersions[Math.floor(rootVersions.length * 0.8)]!,
    nested: NESTED.map((n) => ({
      dir: n.dir,
      modulePath: `${MODULE_PATH}/${n.dir}`,
      latest: tags
        .filter((t) => t.name.startsWith(`${n.dir}/`))
        .map((t) => t.name.slice(n.dir.length + 1))
        .sort(semverCompare)
        .at(-1)!,
    })),
    stats: {
      commits: SHAPE.commits,
      tags: tags.length,
      annotatedTags: tags.filter((t) => t.annotated).length,
      otherRefs: SHAPE.mergeRequestRefs + 1,
      filesAtTip: latestFiles.length,
      bytesAtTip: latestFiles.reduce((n, p) => n + files.get(p)!.length, 0),
      looseCommits: SHAPE.looseCommits,
    },
    buildSeconds: 0,
  };
  await rename(building, gitdir);
  manifest.buildSeconds = Math.round((performance.now() - started) / 100) / 10;
  await writeFile(manifestFile, JSON.stringify(manifest, null, 2) + '\n');
  log(`built in ${manifest.buildSeconds} s`);
  return manifest;
}
