/**
 * Shrinks a difference found by the parity run to a minimal repository (greedy delta debugging):
 *
 *   node dist/test/parity/shrink.js --seed 1 --index 4 --module v2 --query HEAD
 *   node dist/test/parity/shrink.js --seed 1 --index 4 --module . --list
 *   node dist/test/parity/shrink.js … --goproxy off     (against another GOPROXY; `off` tests the shrinker)
 *
 * `--module` is the module path suffix after `github.com/testorg/<repo>` (`.` for the root). The
 * query may be any string the parity run printed; hash prefixes and pseudo-versions are followed to
 * their commit, so they stay valid while commits are removed. Every attempt rebuilds the repository,
 * starts a fresh server (no cache) and runs go in direct mode and through the proxy; a reduction is
 * kept when the same kind of difference (which side fails, which fields differ) is still there.
 * Prints the minimal RepoSpec (fixtures.ts) and both answers.
 */
import { join } from 'node:path';
import {
  type BuiltRepo,
  type CommitSpec,
  createFixtureWorld,
  type EntrySpec,
  type FixtureWorld,
  type RepoSpec,
} from '../helpers/fixtures.js';
import { DIRECT, type DownloadResult, diffDownloads, GoClient, type GoMode } from '../helpers/go-client.js';
import { startProxy } from '../helpers/proxy-process.js';
import { type GeneratedRepo, generateRepo, type QuerySpec, resolveQueries } from './random-repo.js';

interface Target {
  /** Module path suffix ('' = root). */
  suffix: string;
  list: boolean;
  /** The query, as a generated QuerySpec (follows commits) or a literal. */
  query?: QuerySpec;
}

interface Outcome {
  signature: string | null;
  text: string;
}

function labels(spec: RepoSpec): string[] {
  return spec.commits.map((c, i) => c.label ?? `c${i + 1}`);
}

async function evaluate(
  world: FixtureWorld,
  go: GoClient,
  spec: RepoSpec,
  target: Target,
  repo: GeneratedRepo,
  goproxyOverride: string | undefined,
): Promise<Outcome> {
  let built: BuiltRepo;
  try {
    built = await world.build(spec);
  } catch (err) {
    return { signature: null, text: `build failed: ${String(err)}` };
  }
  const module = target.suffix ? `${built.modulePath}/${target.suffix}` : built.modulePath;
  const server = goproxyOverride
    ? undefined
    : await startProxy({
        dir: join(world.root, 'server'),
        projects: [{ id: 1, path: built.fullPath, repository: built.gitdir, visibility: 'public' }],
      });
  try {
    const proxy: GoMode = { goproxy: goproxyOverride ?? server!.goproxy(1), label: 'proxy' };
    if (target.list) {
      const [d, p] = await Promise.all([go.listVersions(module, DIRECT), go.listVersions(module, proxy)]);
      const same = d.ok === p.ok && (!d.ok || d.versions.join(' ') === p.versions.join(' '));
      const text = `direct ${d.ok ? `[${d.versions.join(' ')}]` : `FAILED ${d.error}`}\nproxy  ${p.ok ? `[${p.versions.join(' ')}]` : `FAILED ${p.error}`}`;
      return { signature: same ? null : `list ${d.ok}/${p.ok}`, text };
    }
    const fake: GeneratedRepo = { ...repo, spec, queries: [target.query!] };
    const resolved = resolveQueries(fake, built)[0];
    if (!resolved) return { signature: null, text: 'query does not resolve' };
    const arg = `${module}@${resolved.query}`;
    const [d, p] = await Promise.all([go.modDownload(arg, DIRECT), go.modDownload(arg, proxy)]);
    const diffs = diffDownloads(d, p);
    const fields = ['Version', 'Sum', 'GoModSum'].filter((k) => diffs.some((x) => x.startsWith(k + ':')));
    if (diffs.some((x) => x.startsWith('.info Time'))) fields.push('Time');
    const text = `query ${arg}\ndirect ${fmt(d)}\nproxy  ${fmt(p)}\n${diffs.join('\n')}`;
    return { signature: diffs.length === 0 ? null : `dl ${d.ok}/${p.ok} ${fields.join(',')}`, text };
  } finally {
    await server?.stop();
  }
}

function fmt(r: DownloadResult): string {
  return r.ok ? `${r.Version} ${r.Sum} mod ${r.GoModSum} time ${r.info?.Time}` : `FAILED ${(r.Error ?? '').split('\n')[0]}`;
}

/** All single-step reductions of a spec. */
function* reductions(spec: RepoSpec, keepLabels: Set<string>): Generator<[string, RepoSpec]> {
  const ls = labels(spec);
  // Remove a commit (children take over its parents).
  for (let i = spec.commits.length - 1; i >= 0; i--) {
    const label = ls[i]!;
    if (keepLabels.has(label) || spec.commits.length === 1) continue;
    const victim = spec.commits[i]!;
    const parentsOf = (c: CommitSpec, idx: number): string[] => c.parents ?? (idx > 0 ? [ls[idx - 1]!] : []);
    const vParents = parentsOf(victim, i);
    const commits: CommitSpec[] = [];
    spec.commits.forEach((c, idx) => {
      if (idx === i) return;
      const ps = parentsOf(c, idx).flatMap((p) => (p === label ? vParents : [p]));
      commits.push({ ...c, label: ls[idx]!, parents: [...new Set(ps)] });
    });
    const redirect = vParents[0];
    const fix = (m: Record<string, string> | undefined) => {
      if (!m) return undefined;
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(m)) {
        if (v !== label) out[k] = v;
        else if (redirect) out[k] = redirect;
      }
      return out;
    };
    // The removed commit's branch tip must move to the commit before it (if the branch survives).
    yield [`drop commit ${label}`, { ...spec, commits, branches: fix(spec.branches), refs: fix(spec.refs) }];
  }
  // Remove a tag; turn an annotated tag into a lightweight one.
  for (let i = 0; i < spec.commits.length; i++) {
    const tags = spec.commits[i]!.tags ?? [];
    for (let k = 0; k < tags.length; k++) {
      const t = tags[k]!;
      const name = typeof t === 'string' ? t : t.name;
      const withTags = (next: CommitSpec['tags']) => spec.commits.map((x, j) => (j === i ? { ...x, tags: next } : x));
      yield [`drop tag ${name}`, { ...spec, commits: withTags(tags.filter((_, n) => n !== k)) }];
      if (typeof t !== 'string') {
        yield [`lightweight tag ${name}`, { ...spec, commits: withTags(tags.map((y, n) => (n === k ? name : y))) }];
      }
    }
  }
  // Remove branches and refs.
  for (const key of Object.keys(spec.branches ?? {})) {
    const branches = { ...spec.branches };
    delete branches[key];
    yield [`drop branch ${key}`, { ...spec, branches }];
  }
  for (const key of Object.keys(spec.refs ?? {})) {
    const refs = { ...spec.refs };
    delete refs[key];
    yield [`drop ref ${key}`, { ...spec, refs }];
  }
  // Remove paths from every commit: big chunks first, then one by one.
  const paths = new Set(spec.commits.flatMap((c) => Object.keys(c.tree)));
  const sorted = [...paths].sort();
  const dropPaths = (drop: Set<string>): RepoSpec => ({
    ...spec,
    commits: spec.commits.map((c) => {
      const tree = { ...c.tree };
      for (const p of drop) delete tree[p];
      return { ...c, tree };
    }),
  });
  for (let size = Math.ceil(sorted.length / 2); size > 1; size = Math.ceil(size / 2)) {
    for (let at = 0; at < sorted.length; at += size) {
      const chunk = sorted.slice(at, at + size);
      yield [`drop paths ${chunk.join(' ')}`, dropPaths(new Set(chunk))];
    }
    if (size === 2) break;
  }
  for (const path of sorted) yield [`drop path ${path}`, dropPaths(new Set([path]))];
  // Simplify file contents.
  for (const path of [...paths].sort()) {
    if (path.endsWith('go.mod') || path.endsWith('.gitattributes')) continue;
    const commits = spec.commits.map((c) =>
      path in c.tree && !isSimple(c.tree[path]!) ? { ...c, tree: { ...c.tree, [path]: 'x\n' } } : c,
    );
    if (commits.every((c, i) => c === spec.commits[i])) continue;
    yield [`simplify ${path}`, { ...spec, commits }];
  }
  // Plain storage and dates.
  if (spec.objects !== 'packed' || spec.refsLayout !== 'loose')
    yield ['plain storage', { ...spec, objects: 'packed', refsLayout: 'loose' }];
  if (spec.commits.some((c) => c.authorDate))
    yield ['no author dates', { ...spec, commits: spec.commits.map(({ authorDate: _a, ...c }) => c) }];
}

function isSimple(e: EntrySpec): boolean {
  return e === 'x\n' || (typeof e === 'object' && !(e instanceof Uint8Array) && !('content' in e));
}

function parseArgs(argv: string[]): { seed: number; index: number; suffix: string; query?: string; list: boolean; goproxy?: string } {
  const get = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const seed = Number(get('--seed') ?? '1');
  const index = Number(get('--index'));
  const mod = get('--module') ?? '.';
  const query = get('--query');
  const list = argv.includes('--list');
  // Compare with another GOPROXY instead of our server (`off` checks the shrinker itself).
  const goproxy = get('--goproxy');
  if (!Number.isInteger(index) || (!list && query === undefined)) {
    throw new Error('usage: shrink --seed S --index I --module SUFFIX (--query Q | --list)');
  }
  return {
    seed,
    index,
    suffix: mod === '.' ? '' : mod,
    ...(query !== undefined ? { query } : {}),
    list,
    ...(goproxy !== undefined ? { goproxy } : {}),
  };
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const repo = generateRepo(args.seed, args.index);
  const world = await createFixtureWorld('goproxy-shrink-');
  const go = new GoClient({ world });
  try {
    const target: Target = { suffix: args.suffix, list: args.list };
    const keep = new Set<string>();
    if (!args.list) {
      // Find the generated QuerySpec behind the printed query (hash prefixes, pseudo-versions).
      const built = await world.build(repo.spec);
      const module = args.suffix ? `${built.modulePath}/${args.suffix}` : built.modulePath;
      const resolved = resolveQueries(repo, built);
      const k = resolved.findIndex((r) => r.module === module && r.query === args.query);
      const spec = k >= 0 ? findSpec(repo, built, k) : undefined;
      target.query = spec ?? { module: '', kind: 'literal', query: args.query!, why: 'literal' };
      if (target.query.kind !== 'literal') keep.add(target.query.label);
    }
    let spec = repo.spec;
    const first = await evaluate(world, go, spec, target, repo, args.goproxy);
    if (!first.signature) {
      console.log(`no difference to shrink:\n${first.text}`);
      return 1;
    }
    console.log(`difference: ${first.signature}\n${first.text}\n`);
    let progress = true;
    let attempts = 0;
    while (progress) {
      progress = false;
      for (const [what, candidate] of reductions(spec, keep)) {
        attempts++;
        const outcome = await evaluate(world, go, candidate, target, repo, args.goproxy);
        if (outcome.signature === first.signature) {
          console.log(`  kept: ${what}`);
          spec = candidate;
          progress = true;
          break;
        }
      }
    }
    const last = await evaluate(world, go, spec, target, repo, args.goproxy);
    console.log(`\nminimal repository after ${attempts} attempts (${spec.commits.length} commits):`);
    console.log(JSON.stringify(spec, (_k, v: unknown) => (v instanceof Uint8Array ? { bytes: Buffer.from(v).toString('hex') } : v), 2));
    console.log(`\n${last.text}`);
    return 0;
  } finally {
    await world.dispose();
  }
}

/** The k-th resolved query's QuerySpec (resolveQueries drops duplicates, so walk it the same way). */
function findSpec(repo: GeneratedRepo, built: BuiltRepo, k: number): QuerySpec | undefined {
  const seen = new Set<string>();
  let n = 0;
  for (const q of repo.queries) {
    const one = resolveQueries({ ...repo, queries: [q] }, built)[0]!;
    const key = `${one.module}@${one.query}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (n === k) return q;
    n++;
  }
  return undefined;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

process.exitCode = await main();
