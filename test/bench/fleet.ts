/**
 * The fleet benchmark (`npm run bench:fleet`): one real server process serving N projects, as an
 * organization runs it. Each project is asked for `list`, `.info`, `.mod` and one `.zip`, then
 * everything again (warm). It prints the server's peak and final RSS, its open file descriptors
 * (sampled every 50 ms) and the warm latencies, for each N side by side, and marks the targets.
 *
 * The projects are hard-linked copies of two repositories: a small one generated here (30 tags,
 * 120 files, no go.mod) and, for one project in twenty, the generated large one of large-repo.ts
 * (284 MB pack, 2,000 tags). Hard links share the page cache, not the proxy's state: each copy
 * is a repository of its own to the server (its own pack index in memory, its own descriptors).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readlink, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureLargeRepo } from './large-repo.js';
import { loadAverage, percentile, processMemory } from './measure.js';
import { PROJECT_ROOT, startBenchServer, timedGet } from './server-process.js';

const USAGE = `Usage: npm run bench:fleet -- [--projects 20,200] [--large-every 20] [--concurrency 4] [--open-repositories N]
  --projects LIST      project counts to run, one fresh server each (default 20,200)
  --large-every K      one project in K is a copy of the large generated repository (default 20)
  --concurrency C      projects asked at once (default 4)
  --open-repositories N  the server's cache.openRepositories (default: the server's, 64)
`;

const PREFIX = 'fleet.example.com';
/**
 * The documented bound (README, "One process for a whole organization"): openRepositories (64)
 * × packs per repository (1 here), 40 of Node's own (stdio, worker threads, epoll), and 8 per
 * request in flight (its socket, a zip file, reads under way).
 */
const fdBound = (concurrency: number, openRepositories = 64): number => openRepositories + 40 + 8 * concurrency;

function run(cmd: string, args: string[], options: { cwd?: string; input?: string } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')}: ${code} ${err}`))));
    if (options.input !== undefined) child.stdin!.end(options.input);
  });
}

/** A small repository: 30 commits, each tagged, over 120 text files; no go.mod, so any module path fits. */
async function ensureSmallRepo(dir: string): Promise<string> {
  const gitdir = join(dir, 'small.git');
  if (existsSync(join(gitdir, 'packed-refs'))) return gitdir;
  await rm(gitdir, { recursive: true, force: true });
  await run('git', ['init', '-q', '--bare', gitdir]);
  let stream = '';
  let mark = 0;
  for (let c = 0; c < 30; c++) {
    const time = 1_600_000_000 + c * 86_400;
    stream += `commit refs/heads/main\nmark :${++mark}\ncommitter Bench <bench@example.com> ${time} +0000\ndata 9\ncommit ${String(c).padStart(2, '0')}\n`;
    if (c > 0) stream += `from :${mark - 1}\n`;
    for (let f = 0; f < 120; f++) {
      if (c > 0 && f % 10 !== c % 10) continue;
      const body = `package p${f % 7}\n\n// file ${f}, commit ${c}\n${'var x = "fleet benchmark content"\n'.repeat(40)}`;
      stream += `M 100644 inline pkg${f % 7}/f${f}.go\ndata ${Buffer.byteLength(body)}\n${body}\n`;
    }
    stream += `\ntag v1.${c}.0\nfrom :${mark}\ntagger Bench <bench@example.com> ${time} +0000\ndata 8\nv1.${c}.0\n\n`;
  }
  // One mark per commit; each commit's parent is the previous one's mark.
  await run('git', ['fast-import', '--quiet'], { cwd: gitdir, input: stream });
  await run('git', ['symbolic-ref', 'HEAD', 'refs/heads/main'], { cwd: gitdir });
  await run('git', ['repack', '-a', '-d', '-q'], { cwd: gitdir });
  await run('git', ['pack-refs', '--all'], { cwd: gitdir });
  return gitdir;
}

interface FleetFigures {
  projects: number;
  large: number;
  coldSeconds: number;
  peakMb: number;
  finalMb: number;
  maxFds: number;
  maxKinds: string;
  finalFds: number;
  finalKinds: string;
  warm: Record<'list' | 'info' | 'mod' | 'zip', { p50: number; p99: number }>;
  failures: number;
}

async function fdCount(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}

/** What the descriptors are: sockets, pipes, packs, zips, other files. */
async function fdKinds(pid: number): Promise<string> {
  const kinds = new Map<string, number>();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '?');
    const kind = target.startsWith('socket:')
      ? 'socket'
      : target.startsWith('pipe:')
        ? 'pipe'
        : target.startsWith('anon_inode:')
          ? 'anon'
          : target.endsWith('.pack')
            ? 'pack'
            : /\.zip|\.tmp$/.test(target)
              ? 'zip'
              : 'file';
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  return [...kinds].map(([k, n]) => `${n} ${k}`).join(', ');
}

async function runFleet(
  n: number,
  largeEvery: number,
  concurrency: number,
  small: string,
  large: string,
  work: string,
  cache: Record<string, number>,
): Promise<FleetFigures> {
  const dir = join(work, `fleet-${n}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'repos'), { recursive: true });
  const projects: { path: string; gitdir: string; large: boolean }[] = [];
  for (let i = 1; i <= n; i++) {
    const isLarge = i % largeEvery === 0;
    const gitdir = join(dir, 'repos', `p${i}.git`);
    await run('cp', ['-al', isLarge ? large : small, gitdir]);
    projects.push({ path: `fleet/p${i}`, gitdir, large: isLarge });
  }
  const server = await startBenchServer({ dir, modulePrefix: PREFIX, projectPath: '', gitdir: '', projects, cache });
  let maxFds = 0;
  let maxKinds = '';
  const sampler = setInterval(() => {
    fdCount(server.pid).then(
      async (c) => {
        if (c <= maxFds) return;
        maxFds = c;
        maxKinds = await fdKinds(server.pid).catch(() => '');
      },
      () => undefined,
    );
  }, 50);
  const warm = { list: [] as number[], info: [] as number[], mod: [] as number[], zip: [] as number[] };
  let failures = 0;
  const started = performance.now();
  try {
    for (const pass of ['cold', 'warm'] as const) {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < projects.length) {
          const index = next++;
          const base = `${server.origin}/api/v4/projects/${index + 1}/packages/go/${PREFIX}/${projects[index]!.path}`;
          const list = await timedGet(`${base}/@v/list`, true);
          const versions = (list.body?.toString() ?? '').split('\n').filter(Boolean);
          // A large project's newest version is a 42 MB zip; the small ones' are a few KB.
          const version = versions.at(-1) ?? 'v0.0.0';
          const info = await timedGet(`${base}/@v/${version}.info`);
          const mod = await timedGet(`${base}/@v/${version}.mod`);
          const zip = await timedGet(`${base}/@v/${version}.zip`);
          for (const r of [list, info, mod, zip]) if (r.status !== 200) failures++;
          if (pass === 'warm') {
            warm.list.push(list.ms);
            warm.info.push(info.ms);
            warm.mod.push(mod.ms);
            warm.zip.push(zip.ms);
          }
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
    }
    const coldSeconds = (performance.now() - started) / 1000;
    const memory = await processMemory(server.pid);
    const stat = (values: number[]): { p50: number; p99: number } => ({ p50: percentile(values, 50), p99: percentile(values, 99) });
    return {
      projects: n,
      large: projects.filter((p) => p.large).length,
      coldSeconds,
      peakMb: memory.peakMb,
      finalMb: memory.rssMb,
      maxFds,
      maxKinds,
      finalFds: await fdCount(server.pid),
      finalKinds: await fdKinds(server.pid),
      warm: { list: stat(warm.list), info: stat(warm.info), mod: stat(warm.mod), zip: stat(warm.zip) },
      failures,
    };
  } finally {
    clearInterval(sampler);
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      projects: { type: 'string', default: '20,200' },
      'large-every': { type: 'string', default: '20' },
      concurrency: { type: 'string', default: '4' },
      'open-repositories': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const counts = values.projects.split(',').map(Number);
  const largeEvery = Number(values['large-every']);
  const concurrency = Number(values.concurrency);
  const cache = values['open-repositories'] ? { openRepositories: Number(values['open-repositories']) } : {};
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const cacheDir = join(PROJECT_ROOT, '.data', 'bench');
  const large = (await ensureLargeRepo({ cacheDir, log })).gitdir;
  const small = await ensureSmallRepo(join(cacheDir, 'fleet'));
  const results: FleetFigures[] = [];
  for (const n of counts) {
    log(`fleet of ${n} projects…`);
    results.push(await runFleet(n, largeEvery, concurrency, small, large, join(cacheDir, 'fleet'), cache));
  }
  const ms = (v: number): string => `${v.toFixed(1)} ms`;
  const first = results[0]!;
  const last = results.at(-1)!;
  const rows: [string, (r: FleetFigures) => string, string, boolean | null][] = [
    ['projects (large copies)', (r) => `${r.projects} (${r.large})`, '', null],
    ['both passes, wall', (r) => `${r.coldSeconds.toFixed(1)} s`, '', null],
    ['failed requests', (r) => String(r.failures), '0', results.every((r) => r.failures === 0)],
    ['server peak RSS', (r) => `${r.peakMb.toFixed(0)} MB`, '≤ 400 MB', results.every((r) => r.peakMb <= 400)],
    [
      'server final RSS',
      (r) => `${r.finalMb.toFixed(0)} MB`,
      `within 15% (${((last.finalMb / first.finalMb - 1) * 100).toFixed(0)}%)`,
      Math.abs(last.finalMb / first.finalMb - 1) <= 0.15,
    ],
    [
      'open fds, max sampled / final',
      (r) => `${r.maxFds} / ${r.finalFds}`,
      `≤ ${fdBound(concurrency)}`,
      results.every((r) => r.maxFds <= fdBound(concurrency)),
    ],
    [
      'warm list p50 / p99',
      (r) => `${ms(r.warm.list.p50)} / ${ms(r.warm.list.p99)}`,
      'p50 < 5 ms',
      results.every((r) => r.warm.list.p50 < 5),
    ],
    [
      'warm .info p50 / p99',
      (r) => `${ms(r.warm.info.p50)} / ${ms(r.warm.info.p99)}`,
      'p50 < 5 ms',
      results.every((r) => r.warm.info.p50 < 5),
    ],
    ['warm .mod p50 / p99', (r) => `${ms(r.warm.mod.p50)} / ${ms(r.warm.mod.p99)}`, 'p50 < 5 ms', results.every((r) => r.warm.mod.p50 < 5)],
    ['warm .zip (cached) p50 / p99', (r) => `${ms(r.warm.zip.p50)} / ${ms(r.warm.zip.p99)}`, '', null],
  ];
  const out: string[] = [`fleet benchmark, ${PREFIX}; load average ${await loadAverage()}; concurrency ${concurrency}`, ''];
  const header = ['measure'.padEnd(32), ...results.map((r) => `N = ${r.projects}`.padStart(22)), '  target'];
  out.push(header.join(''));
  let met = 0;
  let judged = 0;
  for (const [name, cell, target, pass] of rows) {
    if (pass !== null) {
      judged++;
      if (pass) met++;
    }
    out.push(
      [name.padEnd(32), ...results.map((r) => cell(r).padStart(22)), `  ${target}${pass === null ? '' : pass ? '  PASS' : '  FAIL'}`].join(
        '',
      ),
    );
  }
  out.push('', ...results.map((r) => `N = ${r.projects}: descriptors at the peak ${r.maxKinds}; at the end ${r.finalKinds}`));
  out.push('', `targets met: ${met}/${judged}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
