/**
 * One in-process measurement in a fresh Node process, so "cold" really means cold (nothing
 * opened, no caches) and the peak RSS is this measurement's own. Run by run-bench.ts as
 * `node bench-worker.js '<json task>'`; prints one JSON line with the figures.
 *
 * The services are built directly with createModuleService (memory pins, no zip cache): the
 * same wiring createProjectServices does, minus the caches, so these figures are build costs.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { openGitRepository } from '../../src/git/open-repository.js';
import type { GitRepository } from '../../src/git/repository.js';
import { createModuleService, type ModuleService } from '../../src/service/module-service.js';
import { createMemoryPins } from '../../src/service/version-pins.js';
import { type ObjectReaderKind, readerOptions } from '../helpers/isomorphic-git-object-store.js';

export type WorkerTask =
  | { op: 'list'; gitdir: string; codeRoot: string; modulePath: string; reader: ObjectReaderKind; warm: number }
  | { op: 'tree'; gitdir: string; tag: string; dir: string; reader: ObjectReaderKind; warm: number }
  | { op: 'zip'; gitdir: string; codeRoot: string; modulePath: string; version: string; reader: ObjectReaderKind; warm: number };

export interface WorkerResult {
  /** First operation in the process, repository opening included, ms. */
  coldMs: number;
  /** Later repetitions in the same process, ms. */
  warmMs: number[];
  /** CPU seconds (user + system, all threads) over the whole task. */
  cpuS: number;
  /** CPU seconds of the cold operation alone. */
  coldCpuS: number;
  maxRssMb: number;
  /** Longest event-loop stall seen during the task, ms. */
  maxLoopDelayMs: number;
  p99LoopDelayMs: number;
  /** What was produced: versions listed, tree entries walked, or zip bytes. */
  count: number;
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function openService(
  gitdir: string,
  codeRoot: string,
  reader: ObjectReaderKind,
): Promise<{ repo: GitRepository; service: ModuleService }> {
  const repo = await openGitRepository(gitdir, readerOptions(reader));
  const service = createModuleService({ repository: repo, codeRoot, pins: createMemoryPins() });
  return { repo, service };
}

/** Every tree below `treeOid`, as `git ls-tree -r` does (blobs counted, trees descended). */
async function walk(repo: GitRepository, treeOid: string): Promise<number> {
  let count = 0;
  const pending = [treeOid];
  while (pending.length > 0) {
    const batch = pending.splice(0, 32);
    const trees = await Promise.all(batch.map((oid) => repo.readTree(oid)));
    for (const entries of trees) {
      for (const e of entries) {
        if (e.mode === 0o040000) pending.push(e.oid);
        else count++;
      }
    }
  }
  return count;
}

async function treeOf(repo: GitRepository, tag: string, dir: string): Promise<string> {
  const refs = await repo.refs();
  const target = refs.tags.get(tag);
  if (!target) throw new Error(`no tag ${tag}`);
  const commit = await repo.readCommit(target.peeled);
  if (dir === '') return commit.tree;
  const entry = await repo.lookupPath(commit.tree, dir);
  if (!entry) throw new Error(`no ${dir} in ${tag}`);
  return entry.oid;
}

async function zipBytes(service: ModuleService, modulePath: string, version: string): Promise<number> {
  const zip = await service.zip(modulePath, version);
  let bytes = 0;
  await pipeline(
    zip.open(),
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        callback();
      },
    }),
  );
  return bytes;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; cpu: number; value: T }> {
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, cpu: cpuSeconds() - cpu0, value };
}

export async function runTask(task: WorkerTask): Promise<WorkerResult> {
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const cpu0 = cpuSeconds();
  let cold: { ms: number; cpu: number; value: number };
  const warmMs: number[] = [];
  switch (task.op) {
    case 'list': {
      let service!: ModuleService;
      cold = await timed(async () => {
        ({ service } = await openService(task.gitdir, task.codeRoot, task.reader));
        return (await service.list(task.modulePath)).length;
      });
      for (let i = 0; i < task.warm; i++) warmMs.push((await timed(() => service.list(task.modulePath))).ms);
      break;
    }
    case 'tree': {
      let repo!: GitRepository;
      cold = await timed(async () => {
        repo = await openGitRepository(task.gitdir, readerOptions(task.reader));
        return walk(repo, await treeOf(repo, task.tag, task.dir));
      });
      for (let i = 0; i < task.warm; i++) warmMs.push((await timed(async () => walk(repo, await treeOf(repo, task.tag, task.dir)))).ms);
      break;
    }
    case 'zip': {
      let service!: ModuleService;
      cold = await timed(async () => {
        ({ service } = await openService(task.gitdir, task.codeRoot, task.reader));
        return zipBytes(service, task.modulePath, task.version);
      });
      for (let i = 0; i < task.warm; i++) warmMs.push((await timed(() => zipBytes(service, task.modulePath, task.version))).ms);
      break;
    }
  }
  loop.disable();
  return {
    coldMs: cold.ms,
    warmMs,
    cpuS: cpuSeconds() - cpu0,
    coldCpuS: cold.cpu,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    maxLoopDelayMs: loop.max / 1e6,
    p99LoopDelayMs: loop.percentile(99) / 1e6,
    count: cold.value,
  };
}

const isMain = process.argv[1]?.endsWith('bench-worker.js') ?? false;
if (isMain) {
  const task = JSON.parse(process.argv[2] ?? '{}') as WorkerTask;
  runTask(task).then(
    (result) => {
      process.stdout.write(JSON.stringify(result) + '\n');
      // Open pack file descriptors and timers must not keep a finished measurement alive.
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
