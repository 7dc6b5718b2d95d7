/**
 * Randomized parity runner (issue 3): builds N generated repositories (random-repo.ts), serves all
 * of them from ONE real server process (one project each), and for every module path and query
 * compares what the real `go` command reports through the proxy with what it computes in direct
 * mode (GOPROXY=direct) from the very same bare repository (go-modules.md §7):
 *
 * - `go list -m -json -versions M`: the version lists must be equal, or both fail;
 * - `go mod download -json M@q` for every generated query plus every listed version: Version, Sum,
 *   GoModSum and the `.info` Time must be equal, or both fail (error texts differ and are not
 *   compared). When both fail but both got as far as the `.mod` (e.g. the zip is invalid), their
 *   Version and GoModSum must still agree.
 *
 * By default the queries of one repository share one `go` invocation per mode (fresh module cache
 * each); a difference found that way is re-run alone with fresh caches to tell whether it
 * reproduces in isolation. `isolated: true` runs every query in its own invocation. go runs at
 * most two at a time (go-client.ts).
 *
 * With `cache: true` the server gets a cache directory, and after the first pass it is restarted
 * and every repository is compared again (proxy side only, against the stored direct answers), so
 * that answers read back from the cache are checked too.
 */
import { existsSync, rmSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type BuiltRepo, createFixtureWorld } from '../helpers/fixtures.js';
import {
  createLimiter,
  DIRECT,
  type DownloadResult,
  diffDownloads,
  GoClient,
  type GoMode,
  type GoRun,
  readZip,
  type VersionsResult,
} from '../helpers/go-client.js';
import { type ProxyServer, startProxy } from '../helpers/proxy-process.js';
import { describeRepo, type GeneratedRepo, generateRepo, type ResolvedQuery, resolveQueries } from './random-repo.js';

export interface ParityOptions {
  seed: number;
  /** Number of repositories (indexes 0 … repos-1). */
  repos: number;
  /** Only these indexes (reproduce a single repository of a large run). */
  only?: number[];
  /** Run the server with a cache directory and compare a second, warm pass after a restart. */
  cache?: boolean;
  /** One go invocation per query instead of one per repository and mode. */
  isolated?: boolean;
  /** Keep the temporary directory (repositories, server config and logs) for inspection. */
  keep?: boolean;
  /** Repositories compared at the same time (go itself is limited to 2 processes). Default 2. */
  repoConcurrency?: number;
  /** Progress and difference lines. Default: console.log. */
  log?: (line: string) => void;
  /** Print every repository's description, not only those with differences. */
  verbose?: boolean;
}

export interface Difference {
  seed: number;
  index: number;
  repo: string;
  /** `cold` = first pass; `warm` = after a server restart with the cache directory. */
  pass: 'cold' | 'warm';
  kind: 'list' | 'download';
  module: string;
  query: string;
  why: string;
  direct: string;
  proxy: string;
  details: string[];
  /** Re-run alone with fresh caches: true = same difference, false = not reproduced, undefined = not re-run. */
  isolated?: boolean;
}

/**
 * A batch-only disagreement that is direct mode's own doing: alone (fresh module cache, as
 * go-modules.md §7 prescribes) direct mode agrees with the proxy, and the proxy answered the same in
 * the batch and alone, so only direct mode changed its answer with a warm git clone (e.g. a hash
 * prefix that matches a tag is fetched with --depth=1 in a fresh clone, so RecentTag sees fewer
 * tags than after a full fetch). Reported, not counted.
 */
export type Note = Difference;

export interface ParityReport {
  seed: number;
  repos: number;
  comparisons: number;
  differences: Difference[];
  /** Direct mode disagreeing with itself between a batch and a fresh cache (not counted). */
  notes: Note[];
  durationMs: number;
  /** The kept temporary directory, when `keep` was set. */
  root?: string;
}

interface ListOutcome {
  ok: boolean;
  versions: string[];
  error?: string;
}

interface RepoState {
  repo: GeneratedRepo;
  built: BuiltRepo;
  projectId: number;
  queries: ResolvedQuery[];
  /** Direct-mode answers, kept for the warm pass. */
  directLists: Map<string, ListOutcome>;
  directDownloads: Map<string, DownloadResult>;
}

/** Temporary roots of runs in progress: removed on exit unless kept (e.g. after Ctrl-C). */
const liveRoots = new Set<string>();
process.once('exit', () => {
  for (const root of liveRoots) rmSync(root, { recursive: true, force: true });
});

export async function runParity(options: ParityOptions): Promise<ParityReport> {
  const started = Date.now();
  const log = options.log ?? ((line: string) => console.log(line));
  const indexes = options.only && options.only.length > 0 ? options.only : Array.from({ length: options.repos }, (_, i) => i);
  const world = await createFixtureWorld('goproxy-parity-');
  if (!options.keep) liveRoots.add(world.root);
  const differences: Difference[] = [];
  const notes: Note[] = [];
  let comparisons = 0;
  let server: ProxyServer | undefined;
  try {
    // 1. Generate and build every repository.
    const states: RepoState[] = [];
    for (const index of indexes) {
      const repo = generateRepo(options.seed, index);
      const built = await world.build(repo.spec);
      states.push({
        repo,
        built,
        projectId: index + 1,
        queries: resolveQueries(repo, built),
        directLists: new Map(),
        directDownloads: new Map(),
      });
    }
    log(`parity: seed ${options.seed}, ${states.length} repositories built in ${world.reposDir}`);

    // 2. One server for all of them.
    const serverDir = join(world.root, 'server');
    const projects = states.map((s) => ({
      id: s.projectId,
      path: s.built.fullPath,
      repository: s.built.gitdir,
      visibility: 'public' as const,
    }));
    server = await startProxy({ dir: serverDir, projects, cache: options.cache ?? false });
    const go = new GoClient({ world });

    // 3. Cold pass: direct and proxy side by side.
    const passes: Array<'cold' | 'warm'> = options.cache ? ['cold', 'warm'] : ['cold'];
    for (const pass of passes) {
      if (pass === 'warm') {
        await server.stop();
        server = await startProxy({ dir: serverDir, projects, cache: true });
        log('parity: server restarted with the same cache directory; warm pass');
      }
      const current = server;
      const limitRepos = createLimiter(options.repoConcurrency ?? 2);
      let done = 0;
      await Promise.all(
        states.map((state) =>
          limitRepos(async () => {
            const result = await compareRepo(go, current, state, pass, options);
            comparisons += result.comparisons;
            differences.push(...result.differences);
            notes.push(...result.notes);
            done++;
            const tag = result.differences.length > 0 ? `  ${result.differences.length} DIFFERENCE(S)` : '';
            log(`[${pass} ${done}/${states.length}] #${state.repo.index} ${state.repo.name}: ` + `${result.comparisons} comparisons${tag}`);
            if (result.differences.length > 0 || options.verbose) log(`    ${describeRepo(state.repo)}`);
            for (const d of result.differences) log(formatDifference(d));
            for (const n of result.notes) log(formatDifference(n, 'NOTE (direct mode depends on its cache state; not counted)'));
          }),
        ),
      );
    }
  } catch (err) {
    if (server) log(`--- last server output ---\n${server.output().split('\n').slice(-30).join('\n')}`);
    throw err;
  } finally {
    await server?.stop();
    if (!options.keep) await world.dispose();
    liveRoots.delete(world.root);
  }
  const report: ParityReport = {
    seed: options.seed,
    repos: indexes.length,
    comparisons,
    differences,
    notes,
    durationMs: Date.now() - started,
    ...(options.keep ? { root: world.root } : {}),
  };
  log(summaryLine(report));
  if (options.keep) log(`parity: kept ${world.root}`);
  return report;
}

export function summaryLine(report: ParityReport): string {
  return (
    `repos ${report.repos}, comparisons ${report.comparisons}, differences ${report.differences.length}` +
    ` (seed ${report.seed}, ${(report.durationMs / 1000).toFixed(1)} s` +
    `${report.notes.length > 0 ? `; ${report.notes.length} direct-mode cache-state notes, not counted` : ''})`
  );
}

export function formatDifference(d: Difference, title = 'DIFFERENCE'): string {
  const iso = d.isolated === undefined ? '' : d.isolated ? ' [reproduced alone]' : ' [NOT reproduced alone: batch only]';
  return [
    `${title} seed=${d.seed} repo=#${d.index} (${d.repo}) pass=${d.pass} ${d.kind} ${d.module}${d.kind === 'download' ? `@${d.query}` : ''}${iso}`,
    `    why:    ${d.why}`,
    `    direct: ${d.direct}`,
    `    proxy:  ${d.proxy}`,
    ...d.details.map((x) => `    - ${x}`),
    `    reproduce: node dist/test/parity/run-parity.js --seed ${d.seed} --only ${d.index}${d.pass === 'warm' ? ' --cache' : ''} --keep`,
  ].join('\n');
}

// ------------------------------------------------------------------------------------------------
// one repository

async function compareRepo(
  go: GoClient,
  server: ProxyServer,
  state: RepoState,
  pass: 'cold' | 'warm',
  options: ParityOptions,
): Promise<{ comparisons: number; differences: Difference[]; notes: Note[] }> {
  const proxyMode: GoMode = { goproxy: server.goproxy(state.projectId), label: 'proxy' };
  const { repo } = state;
  const differences: Difference[] = [];
  const notes: Note[] = [];
  let comparisons = 0;
  const base = { seed: repo.seed, index: repo.index, repo: repo.name, pass };
  const cleanup: string[] = [];

  // Lists.
  const [directLists, proxyLists] = await Promise.all([
    pass === 'cold' ? listAll(go, repo.modules, DIRECT, options, cleanup) : Promise.resolve(state.directLists),
    listAll(go, repo.modules, proxyMode, options, cleanup),
  ]);
  if (pass === 'cold') state.directLists = directLists;
  for (const module of repo.modules) {
    const d = directLists.get(module) ?? { ok: false, versions: [], error: 'no answer' };
    const p = proxyLists.get(module) ?? { ok: false, versions: [], error: 'no answer' };
    comparisons++;
    if (!sameList(d, p)) {
      const diff: Difference = {
        ...base,
        kind: 'list',
        module,
        query: '',
        why: 'go list -m -versions',
        direct: formatList(d),
        proxy: formatList(p),
        details: [],
      };
      if (!options.isolated && pass === 'cold') {
        const [d1, p1] = await Promise.all([go.listVersions(module, DIRECT), go.listVersions(module, proxyMode)]);
        const alone = { d: fromVersionsResult(d1), p: fromVersionsResult(p1) };
        diff.isolated = !sameList(alone.d, alone.p);
        if (!diff.isolated && sameList(alone.p, p)) {
          // Only direct mode changed its mind: the fresh-cache answer is the reference.
          directLists.set(module, alone.d);
          notes.push(diff);
          continue;
        }
      }
      differences.push(diff);
    }
  }

  // Downloads: generated queries plus every version either side listed.
  const queries = [...state.queries];
  const seen = new Set(queries.map((q) => `${q.module}@${q.query}`));
  for (const module of repo.modules) {
    const listed = new Set([...(directLists.get(module)?.versions ?? []), ...(proxyLists.get(module)?.versions ?? [])]);
    for (const v of listed) {
      if (seen.has(`${module}@${v}`)) continue;
      seen.add(`${module}@${v}`);
      queries.push({ module, query: v, why: 'listed version' });
    }
  }
  // Canonical versions first: go resolves the arguments in order, and once a branch or hash has
  // resolved to v1.0.0 its .info is in the module cache, so a later `@v1.0.0` would not ask the
  // proxy for v1.0.0.info at all. (Run with `isolated` for one fresh cache per query.)
  const canonical = (q: string) => /^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+incompatible)?$/.test(q);
  queries.sort((a, b) => Number(!canonical(a.query)) - Number(!canonical(b.query)));
  const args = queries.map((q) => `${q.module}@${q.query}`);
  // The warm pass reuses the cold pass's direct answers (asking direct mode only for new queries).
  const directArgs = pass === 'cold' ? args : args.filter((a) => !state.directDownloads.has(a));
  const [directNew, proxyDl] = await Promise.all([
    directArgs.length > 0 ? downloadAll(go, directArgs, DIRECT, options, cleanup) : Promise.resolve(new Map<string, DownloadResult>()),
    downloadAll(go, args, proxyMode, options, cleanup),
  ]);
  for (const [arg, r] of directNew) state.directDownloads.set(arg, r);
  const directDl = state.directDownloads;

  for (const q of queries) {
    const arg = `${q.module}@${q.query}`;
    const d = directDl.get(arg) ?? missing(arg, 'direct');
    const p = proxyDl.get(arg) ?? missing(arg, 'proxy');
    comparisons++;
    const details = await compareDownloads(d, p);
    if (details.length === 0) continue;
    const diff: Difference = {
      ...base,
      kind: 'download',
      module: q.module,
      query: q.query,
      why: q.why,
      direct: formatDownload(d),
      proxy: formatDownload(p),
      details,
    };
    if (!options.isolated && pass === 'cold') {
      // Does it reproduce alone, with fresh caches?
      const [d1, p1] = await Promise.all([go.modDownload(arg, DIRECT), go.modDownload(arg, proxyMode)]);
      diff.isolated = (await compareDownloads(d1, p1)).length > 0;
      if (diff.isolated) {
        diff.direct = formatDownload(d1);
        diff.proxy = formatDownload(p1);
      } else if ((await compareDownloads(p1, p)).length === 0) {
        // The proxy answered the same both times; direct mode did not (warm git clone).
        diff.details.push(`alone (fresh caches) both give: ${formatDownload(d1)}`);
        state.directDownloads.set(arg, d1);
        notes.push(diff);
        continue;
      }
    }
    differences.push(diff);
  }

  await Promise.all(cleanup.map((dir) => rm(dir, { recursive: true, force: true, maxRetries: 3 })));
  return { comparisons, differences, notes };
}

function missing(arg: string, mode: string): DownloadResult {
  return { query: arg, mode, ok: false, Error: 'no answer for this query in the go output', stderr: '' };
}

/** diffDownloads (go-client.ts) plus: when both fail after resolving, Version and GoModSum agree. */
async function compareDownloads(d: DownloadResult, p: DownloadResult): Promise<string[]> {
  if (d.ok && p.ok && d.Sum !== p.Sum) {
    // Load the zips so that diffDownloads can name the files that differ.
    if (!d.zip && d.Zip && existsSync(d.Zip)) d.zip = readZip(await readFile(d.Zip));
    if (!p.zip && p.Zip && existsSync(p.Zip)) p.zip = readZip(await readFile(p.Zip));
  }
  const diffs = diffDownloads(d, p);
  if (!d.ok && !p.ok && (d.GoModSum || p.GoModSum)) {
    if (d.GoModSum !== p.GoModSum || d.Version !== p.Version) {
      diffs.push(
        `both failed, but resolved differently: direct ${d.Version ?? '-'} ${d.GoModSum ?? '(no .mod)'}, ` +
          `proxy ${p.Version ?? '-'} ${p.GoModSum ?? '(no .mod)'}`,
      );
    }
  }
  return diffs;
}

function sameList(a: ListOutcome, b: ListOutcome): boolean {
  return a.ok === b.ok && (!a.ok || a.versions.join(' ') === b.versions.join(' '));
}

function formatList(l: ListOutcome): string {
  return l.ok ? `[${l.versions.join(' ')}]` : `FAILED [${l.versions.join(' ')}]: ${oneLine(l.error)}`;
}

function formatDownload(r: DownloadResult): string {
  const fields = [r.Version ?? '-', r.Sum ?? '-', `mod ${r.GoModSum ?? '-'}`, `time ${r.info?.Time ?? '-'}`].join(' ');
  return r.ok ? fields : `FAILED (${fields}): ${oneLine(r.Error)}`;
}

function oneLine(s: string | undefined): string {
  const text = (s ?? '').replace(/\s*\n\s*/g, ' | ');
  return text.length > 400 ? text.slice(0, 400) + '…' : text;
}

// ------------------------------------------------------------------------------------------------
// batched go invocations (adapter around GoClient.go: one invocation, many modules / queries)

async function listAll(
  go: GoClient,
  modules: string[],
  mode: GoMode,
  options: ParityOptions,
  cleanup: string[],
): Promise<Map<string, ListOutcome>> {
  const out = new Map<string, ListOutcome>();
  if (options.isolated) {
    const results = await Promise.all(modules.map((m) => go.listVersions(m, mode)));
    for (const r of results) out.set(r.module, fromVersionsResult(r));
    return out;
  }
  const run = await go.go(['list', '-m', '-json', '-versions', ...modules], mode);
  cleanup.push(run.modcache);
  const objects = splitJsonObjects(run.stdout);
  for (const obj of objects) {
    const path = typeof obj.Path === 'string' ? obj.Path : undefined;
    if (!path) continue;
    const versions = Array.isArray(obj.Versions) ? obj.Versions.filter((v): v is string => typeof v === 'string') : [];
    const err = obj.Error;
    const error =
      err && typeof err === 'object' && 'Err' in err && typeof (err as { Err: unknown }).Err === 'string'
        ? (err as { Err: string }).Err
        : undefined;
    out.set(path, { ok: error === undefined, versions, ...(error !== undefined ? { error } : {}) });
  }
  // A module go printed nothing for (go stopped early): ask for it alone.
  const missingModules = modules.filter((m) => !out.has(m));
  if (missingModules.length > 0) {
    const results = await Promise.all(missingModules.map((m) => go.listVersions(m, mode)));
    for (const r of results) out.set(r.module, fromVersionsResult(r));
  }
  return out;
}

function fromVersionsResult(r: VersionsResult): ListOutcome {
  return { ok: r.ok, versions: r.versions, ...(r.error !== undefined ? { error: r.error } : {}) };
}

async function downloadAll(
  go: GoClient,
  args: string[],
  mode: GoMode,
  options: ParityOptions,
  cleanup: string[],
): Promise<Map<string, DownloadResult>> {
  const out = new Map<string, DownloadResult>();
  if (options.isolated) {
    const results = await Promise.all(args.map((a) => go.modDownload(a, mode)));
    for (const r of results) out.set(r.query, r);
    return out;
  }
  const run = await go.go(['mod', 'download', '-json', ...args], mode);
  cleanup.push(run.modcache);
  const objects = splitJsonObjects(run.stdout);
  if (objects.length !== args.length) {
    // go stopped early or merged answers: fall back to one invocation per query.
    const results = await Promise.all(args.map((a) => go.modDownload(a, mode)));
    for (const r of results) out.set(r.query, r);
    return out;
  }
  for (let i = 0; i < args.length; i++) out.set(args[i]!, await toDownloadResult(args[i]!, objects[i]!, run));
  return out;
}

async function toDownloadResult(arg: string, obj: Record<string, unknown>, run: GoRun): Promise<DownloadResult> {
  const result: DownloadResult = { query: arg, mode: run.mode, ok: false, stderr: run.stderr };
  for (const key of ['Version', 'Sum', 'GoModSum', 'Error', 'Info', 'GoMod', 'Zip'] as const) {
    const v = obj[key];
    if (typeof v === 'string') result[key] = v;
  }
  const modulePath = arg.slice(0, arg.lastIndexOf('@'));
  if (obj.Path !== modulePath) result.Error = `go answered for ${String(obj.Path)} instead of ${modulePath}`;
  result.ok = !result.Error && !!result.Sum;
  if (!result.ok && !result.Error) result.Error = 'no Sum reported';
  if (result.Info && existsSync(result.Info)) {
    try {
      const info: unknown = JSON.parse(await readFile(result.Info, 'utf8'));
      if (info && typeof info === 'object') {
        const rec = info as Record<string, unknown>;
        result.info = {
          ...(typeof rec.Version === 'string' ? { Version: rec.Version } : {}),
          ...(typeof rec.Time === 'string' ? { Time: rec.Time } : {}),
        };
      }
    } catch {
      // an unreadable .info shows up as a Time difference
    }
  }
  return result;
}

/** `go … -json` prints a sequence of JSON objects; split and parse them. */
export function splitJsonObjects(text: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}') {
      depth--;
      if (depth === 0 && start >= 0) {
        const value: unknown = JSON.parse(text.slice(start, i + 1));
        if (value && typeof value === 'object' && !Array.isArray(value)) out.push(value as Record<string, unknown>);
        start = -1;
      }
    }
  }
  return out;
}
