import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { CodeHost } from '../modfetch/code-host.js';
import { CodeRepo, type ResolvedVersion } from '../modfetch/code-repo.js';
import { NotFoundError } from '../errors.js';
import type { GitRepository } from '../git/repository.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import * as modulePath from '../xmod/module-path.js';
import { planModuleZip, readArchivedFile, type ZipPlan } from '../modfetch/zip-plan.js';
import type { VersionPins } from './version-pins.js';
import { createNativeZipStream, type NativeZipEntry } from '../zip/writer.js';
import type { ZipCache } from '../zip/cache.js';
import { LruCache } from '../support/lru-cache.js';

/** The `.info` / `@latest` body, Go's `modfetch.RevInfo`. */
export interface RevInfo {
  Version: string;
  /** Committer time in UTC, `YYYY-MM-DDTHH:MM:SSZ`. */
  Time: string;
}

/** A module zip, ready to stream; never held whole in memory by the service. */
export interface ModuleZip {
  /** Strong validator for the zip's bytes. */
  etag: string;
  /** Byte length when known in advance (served from a cache), else null. */
  size: number | null;
  /** Opens the byte stream. Destroying the stream aborts any work behind it. */
  open(signal?: AbortSignal): Readable;
}

/** The GOPROXY protocol for one project's repository (see `go help goproxy`). */
export interface ModuleService {
  /** GET <module>/@v/list: tagged versions; never pseudo-versions. */
  list(modulePath: string, signal?: AbortSignal): Promise<string[]>;
  /** GET <module>/@v/<query>.info: any revision go may send, converted like direct mode. */
  info(modulePath: string, query: string, signal?: AbortSignal): Promise<RevInfo>;
  /** GET <module>/@v/<version>.mod: the raw go.mod bytes, or `module <path>\n`. */
  goMod(modulePath: string, version: string, signal?: AbortSignal): Promise<Buffer>;
  /** GET <module>/@v/<version>.zip */
  zip(modulePath: string, version: string, signal?: AbortSignal): Promise<ModuleZip>;
  /** GET <module>/@latest: convert(HEAD of the default branch). */
  latest(modulePath: string, signal?: AbortSignal): Promise<RevInfo>;
}


export interface ModuleServiceOptions {
  repository: GitRepository;
  /** `<modulePrefix>/<project full path>`: the module path of the repository root. */
  codeRoot: string;
  /** Where served versions are pinned to their commits (so moved tags change nothing). */
  pins: VersionPins;
  /** Finished zips on disk; without it every zip request builds the zip again. */
  zipCache?: ZipCache | null;
  /** Bound of the in-memory cache of served go.mod files. Defaults to 16 MiB. */
  memoryBytes?: number;
  logger?: Logger;
}

/** Formats seconds since the epoch as Go's RevInfo time: UTC, whole seconds. */
export function formatRevTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function isCanonicalFor(path: string, version: string): boolean {
  return modulePath.canonicalVersion(version) === version && modulePath.check(path, version) === null;
}

export function createModuleService(options: ModuleServiceOptions): ModuleService {
  const { repository, codeRoot, pins } = options;
  const logger = options.logger ?? silentLogger;
  const zipCache = options.zipCache ?? null;
  const goMods = new LruCache<string, Buffer>(options.memoryBytes ?? 16 * 1024 * 1024, (b) => b.length + 200);

  function createZipStream(entries: NativeZipEntry[], signal?: AbortSignal): Readable {
    const stream = createNativeZipStream(entries, signal ? { signal } : {});
    // The error's name and code only: fs errors carry file paths, which never go into a log line.
    stream.on('error', (err: NodeJS.ErrnoException) => logger.warn({ op: 'zip', kind: 'stream', error: err.name, code: err.code }, 'zip stream failed'));
    if (signal) signal.addEventListener('abort', () => stream.destroy(), { once: true });
    return stream;
  }
  // Module paths are client input: keep the per-path state of one refs snapshot bounded.
  let current: { host: CodeHost; repos: LruCache<string, CodeRepo> } | null = null;
  // A plan lists every file of a version; bound them by total file count, not by plan count.
  const plans = new LruCache<string, { plan: Promise<ZipPlan>; files: number }>(200_000, (p) => p.files);

  /** The CodeRepo for a module at the current refs state (list and conversions are keyed by it). */
  async function codeRepo(path: string): Promise<CodeRepo> {
    if (modulePath.checkPath(path) !== null) throw new NotFoundError(`malformed module path "${path}"`);
    const refs = await repository.refs();
    if (!current || current.host.refs.stateKey !== refs.stateKey) {
      current = { host: new CodeHost(repository, refs), repos: new LruCache(1024) };
    }
    let repo = current.repos.get(path);
    if (!repo) {
      repo = new CodeRepo(current.host, codeRoot, path);
      current.repos.set(path, repo);
    }
    return repo;
  }

  /** A canonical version: pinned to the commit it was first served from. */
  async function resolveCanonical(path: string, version: string): Promise<{ repo: CodeRepo; resolved: ResolvedVersion }> {
    const repo = await codeRepo(path);
    const pinned = await pins.get(path, version);
    if (pinned) return { repo, resolved: pinned };
    if (!isCanonicalFor(path, version)) throw new NotFoundError(`${path}@${version}: invalid version: not a canonical version for this module`);
    const resolved = await repo.stat(version);
    if (resolved.version !== version) {
      throw new NotFoundError(`${path}@${version}: invalid version: resolves to version ${resolved.version}`);
    }
    await pins.set(path, version, resolved);
    return { repo, resolved };
  }

  function zipPlan(repo: CodeRepo, path: string, version: string, resolved: ResolvedVersion): Promise<ZipPlan> {
    const key = `${resolved.commit}\0${path}\0${version}`;
    const known = plans.get(key);
    if (known) return known.plan;
    const plan = (async () => {
      // The module directory is a property of the pinned commit, not of today's refs.
      const loc = await repo.findDirAt(version, resolved.commit);
      // Shared by concurrent requests, so one client going away must not cancel it.
      return planModuleZip(repo.code, { commit: resolved.commit, dir: loc.dir, modPath: path, version });
    })();
    plans.set(key, { plan, files: 1 });
    plan.then(
      (p) => plans.set(key, { plan, files: p.files.length + 1 }),
      () => plans.delete(key),
    );
    return plan;
  }

  return {
    async list(path) {
      return (await codeRepo(path)).versions();
    },

    async info(path, query) {
      if (isCanonicalFor(path, query)) {
        const pinned = await pins.get(path, query);
        if (pinned) return { Version: pinned.version, Time: formatRevTime(pinned.time) };
      }
      const repo = await codeRepo(path);
      const resolved = await repo.stat(query);
      if (resolved.version === query) await pins.set(path, query, resolved);
      return { Version: resolved.version, Time: formatRevTime(resolved.time) };
    },

    async latest(path) {
      const resolved = await (await codeRepo(path)).latest();
      return { Version: resolved.version, Time: formatRevTime(resolved.time) };
    },

    async goMod(path, version) {
      const { repo, resolved } = await resolveCanonical(path, version);
      const key = `${resolved.commit}\0${path}\0${version}`;
      const hit = goMods.get(key);
      if (hit) return hit;
      const data = await repo.goModAt(version, resolved.commit);
      goMods.set(key, data);
      return data;
    },

    async zip(path, version, signal) {
      const { repo, resolved } = await resolveCanonical(path, version);
      const key = createHash('sha256').update(`native-1\0${resolved.commit}\0${path}\0${version}`).digest('hex');
      const cachedSize = zipCache ? await zipCache.lookup(key) : null;
      // A cached zip was valid when it was built; otherwise the plan must succeed before any
      // header is sent, so that an invalid module becomes a 404 and not a broken download.
      const plan = cachedSize === null ? await zipPlan(repo, path, version, resolved) : null;
      const build = (buildSignal?: AbortSignal): Readable => {
        if (!plan) throw new Error('zip plan missing');
        const entries = plan.files.map((f) => ({
          name: plan.prefix + f.path,
          read: () => readArchivedFile(repo.code, f),
        }));
        return createZipStream(entries, buildSignal);
      };
      return {
        etag: `"${key.slice(0, 43)}"`,
        size: cachedSize,
        open(openSignal?: AbortSignal) {
          if (zipCache) return zipCache.open(key, build, openSignal);
          return build(openSignal);
        },
      };
    },
  };
}
