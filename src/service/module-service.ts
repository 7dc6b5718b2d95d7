import { createHash } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SpanStatusCode } from '@opentelemetry/api';
import { errorLogFields, isAbort, NotFoundError, toProxyError } from '../errors.js';
import type { GitRepository } from '../git/repository.js';
import { type Logger, silentLogger } from '../logger.js';
import { CodeHost } from '../modfetch/code-host.js';
import { CodeRepo, type ResolvedVersion } from '../modfetch/code-repo.js';
import { planModuleZip, readArchivedFile, type ZipPlan } from '../modfetch/zip-plan.js';
import { type ServiceTelemetry, silentTelemetry } from '../observability/telemetry.js';
import { startSpan, traced } from '../observability/tracing.js';
import type { FifoSlots } from '../support/fifo-slots.js';
import { LruCache } from '../support/lru-cache.js';
import { MemoryPool } from '../support/memory-pool.js';
import { ownedBuffer, retainedBytes } from '../support/owned-buffer.js';
import * as modulePath from '../xmod/module-path.js';
import type { ZipCache } from '../zip/cache.js';
import { createNativeZipStream, type NativeZipEntry } from '../zip/writer.js';
import type { VersionPins } from './version-pins.js';

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
  /** Whether opening it fills a disk cache (a later request then knows its size). */
  cached?: boolean;
  /** Opens the byte stream. Destroying the stream aborts any work behind it. */
  open(signal?: AbortSignal): Readable;
}

/**
 * The GOPROXY protocol for one project's repository (see `go help goproxy`). The answers are
 * shared by concurrent requests (plans, refs, walks), so no single client's leaving cancels them;
 * a zip's bytes are the one piece of per-client work, and `ModuleZip.open(signal)` stops it.
 */
export interface ModuleService {
  /** GET <module>/@v/list: tagged versions; never pseudo-versions. */
  list(modulePath: string): Promise<string[]>;
  /** GET <module>/@v/<query>.info: any revision go may send, converted like direct mode. */
  info(modulePath: string, query: string): Promise<RevInfo>;
  /** GET <module>/@v/<version>.mod: the raw go.mod bytes, or `module <path>\n`. */
  goMod(modulePath: string, version: string): Promise<Buffer>;
  /** GET <module>/@v/<version>.zip */
  zip(modulePath: string, version: string): Promise<ModuleZip>;
  /** GET <module>/@latest: convert(HEAD of the default branch). */
  latest(modulePath: string): Promise<RevInfo>;
}

export interface ModuleServiceOptions {
  repository: GitRepository;
  /** `<modulePrefix>/<project full path>`: the module path of the repository root. */
  codeRoot: string;
  /** Where served versions are pinned to their commits (so moved tags change nothing). */
  pins: VersionPins;
  /** Finished zips on disk; without it every zip request builds the zip again. */
  zipCache?: ZipCache | null;
  /**
   * The memory budget its caches (served go.mod files, zip plans, converted files) count against,
   * shared with other services and repositories. Defaults to a pool of its own of 64 MiB.
   */
  memory?: MemoryPool;
  logger?: Logger;
  /** Cache hits and misses, zip builds: for metrics. Defaults to none. */
  telemetry?: ServiceTelemetry;
  /** The process-wide limit on concurrent zip builds; a build waits for a slot before it starts. Defaults to none. */
  buildSlots?: FifoSlots;
}

/** Formats seconds since the epoch as Go's RevInfo time: UTC, whole seconds. */
export function formatRevTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * `module.Check` less its path check, which `codeRepo` makes once per path: a pin can only exist
 * for a path that passed it, so a pin lookup before that check is safe.
 */
function isCanonicalFor(path: string, version: string): boolean {
  return (
    modulePath.canonicalVersion(version) === version &&
    modulePath.checkPathMajor(version, modulePath.splitPathVersion(path).pathMajor) === null
  );
}

/**
 * Runs one protocol method so that whatever escapes is in the error family with its operation:
 * Go's own errors keep Go's message, anything else becomes a generic internal error.
 */
function boundary<T>(op: string, work: () => Promise<T>): Promise<T> {
  return traced(`goproxy.${op}`, async () => {
    try {
      return await work();
    } catch (err) {
      throw toProxyError(err, { as: 'not-found', op });
    }
  });
}

/** Converted bytes of filtered files kept between a zip's plan and its build. */
const OWN_POOL_BYTES = 64 * 1024 * 1024;
/** A planned file: its path and id strings, the object and its filter reference. */
const PLANNED_FILE_BYTES = 220;

/** A module service; `close()` drops what it holds in the memory pool (the repository is the caller's). */
export function createModuleService(options: ModuleServiceOptions): ModuleService & { close(): void } {
  const { repository, codeRoot, pins } = options;
  const logger = options.logger ?? silentLogger;
  const telemetry = options.telemetry ?? silentTelemetry;
  const zipCache = options.zipCache ?? null;
  const memory = options.memory ?? new MemoryPool(OWN_POOL_BYTES);
  const goMods = memory.cache<Buffer>((b) => retainedBytes(b, 200));

  // Filtered files are converted at plan time to learn their size (Go's limits count converted
  // bytes) and again when the zip is written; the build usually follows its plan at once.
  const converted = memory.cache<Buffer>((b) => retainedBytes(b, 100));

  function createZipStream(entries: NativeZipEntry[], signal: AbortSignal | undefined): Readable {
    const started = performance.now();
    // Ends when the stream closes, after the request's own span may have ended (a cached build goes on for later readers).
    const span = startSpan('goproxy.build');
    let bytes = -1;
    const stream = createNativeZipStream(entries, { ...(signal && { signal }), onEnd: (n) => (bytes = n) });
    let failed = false;
    stream.on('error', (err: unknown) => {
      // A client that went away is not a failure; the error's class and code only, as fs errors carry paths.
      if (signal?.aborted || isAbort(err)) return;
      failed = true;
      logger.error({ op: 'zip', ...errorLogFields(err) }, 'zip stream failed');
    });
    stream.once('close', () => {
      const outcome = bytes >= 0 && !failed ? 'built' : failed ? 'failed' : 'aborted';
      span.setAttributes({ 'goproxy.build.outcome': outcome, 'goproxy.build.bytes': Math.max(bytes, 0) });
      if (failed) span.setStatus({ code: SpanStatusCode.ERROR, message: 'failed' });
      span.end();
      telemetry.zipBuild({ outcome, seconds: (performance.now() - started) / 1000, bytes: Math.max(bytes, 0) });
    });
    return stream;
  }
  // Module paths are client input: keep the per-path state of one refs snapshot bounded.
  let current: { host: CodeHost; repos: LruCache<string, CodeRepo> } | null = null;
  // A plan lists every file of a version; bound them by total file count, not by plan count.
  const plans = memory.cache<{ plan: Promise<ZipPlan>; files: number }>((p) => p.files * PLANNED_FILE_BYTES);

  /** The CodeRepo for a module at the current refs state (list and conversions are keyed by it). */
  async function codeRepo(path: string): Promise<CodeRepo> {
    const refs = await traced('goproxy.refs', () => repository.refs());
    if (!current || current.host.refs.stateKey !== refs.stateKey) {
      current = { host: new CodeHost(repository, refs), repos: new LruCache(1024) };
    }
    let repo = current.repos.get(path);
    if (!repo) {
      const pathError = modulePath.checkPath(path);
      if (pathError !== null) throw toProxyError(pathError, { as: 'not-found', op: 'module-path' });
      repo = new CodeRepo(current.host, codeRoot, path);
      current.repos.set(path, repo);
    }
    return repo;
  }

  /** The pin of a canonical version, read without touching refs; null when not pinned (yet). */
  async function pinOf(path: string, version: string): Promise<ResolvedVersion | null> {
    if (!isCanonicalFor(path, version)) return null;
    const pinned = await traced('goproxy.cache', async (span) => {
      const found = await pins.get(path, version);
      span.setAttributes({ 'goproxy.cache.artifact': 'pin', 'goproxy.cache.hit': found !== null });
      return found;
    });
    telemetry.cacheLookup('pin', pinned !== null);
    return pinned;
  }

  /** A canonical version: pinned to the commit it was first served from. */
  async function resolveCanonical(
    path: string,
    version: string,
    pinned: ResolvedVersion | null,
  ): Promise<{ repo: CodeRepo; resolved: ResolvedVersion }> {
    const repo = await codeRepo(path);
    if (pinned) return { repo, resolved: pinned };
    if (!isCanonicalFor(path, version))
      throw new NotFoundError(`${path}@${version}: invalid version: not a canonical version for this module`);
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
      return traced('goproxy.plan', () =>
        planModuleZip(repo.code, { commit: resolved.commit, dir: loc.dir, modPath: path, version, converted }),
      );
    })();
    plans.set(key, { plan, files: 1 });
    plan.then(
      (p) => plans.set(key, { plan, files: p.files.length + 1 }),
      () => plans.delete(key),
    );
    return plan;
  }

  return {
    close() {
      goMods.clear();
      converted.clear();
      plans.clear();
      current = null;
    },

    list(path) {
      return boundary('list', async () => (await codeRepo(path)).versions());
    },

    info(path, query) {
      return boundary('info', async () => {
        const pinned = await pinOf(path, query);
        if (pinned) return { Version: pinned.version, Time: formatRevTime(pinned.time) };
        const resolved = await (await codeRepo(path)).stat(query);
        if (resolved.version === query) await pins.set(path, query, resolved);
        return { Version: resolved.version, Time: formatRevTime(resolved.time) };
      });
    },

    latest(path) {
      return boundary('latest', async () => {
        const resolved = await (await codeRepo(path)).latest();
        return { Version: resolved.version, Time: formatRevTime(resolved.time) };
      });
    },

    goMod(path, version) {
      return boundary('mod', async () => {
        const pinned = await pinOf(path, version);
        // A pinned version's go.mod never changes: serve it without reading refs.
        const known = pinned && goMods.get(goModKey(pinned.commit, path, version));
        if (known) {
          telemetry.cacheLookup('mod', true);
          return fromMemory(known);
        }
        const { repo, resolved } = await resolveCanonical(path, version, pinned);
        const key = goModKey(resolved.commit, path, version);
        const hit = goMods.get(key);
        telemetry.cacheLookup('mod', hit !== undefined);
        if (hit) return fromMemory(hit);
        const data = ownedBuffer(await repo.goModAt(version, resolved.commit));
        goMods.set(key, data);
        return data;
      });
    },

    zip(path, version) {
      return boundary('zip', async () => {
        const { repo, resolved } = await resolveCanonical(path, version, await pinOf(path, version));
        // "native-1" keeps the keys of caches written before the writer choice was removed.
        const key = createHash('sha256').update(`native-1\0${resolved.commit}\0${path}\0${version}`).digest('hex');
        const cachedSize = zipCache
          ? await traced('goproxy.cache', async (span) => {
              const size = await zipCache.lookup(key);
              span.setAttributes({ 'goproxy.cache.artifact': 'zip', 'goproxy.cache.hit': size !== null });
              return size;
            })
          : null;
        // Without a disk cache every request builds: each one is a miss.
        telemetry.cacheLookup('zip', cachedSize !== null);
        // A cached zip was valid when it was built; otherwise the plan must succeed before any
        // header is sent, so that an invalid module becomes a 404 and not a broken download.
        const plan = cachedSize === null ? await zipPlan(repo, path, version, resolved) : null;
        const streamOf = (p: ZipPlan, buildSignal?: AbortSignal): Readable => {
          const entries = p.files.map((f) => ({
            name: p.prefix + f.path,
            read: () => readArchivedFile(repo.code, f, converted),
          }));
          return createZipStream(entries, buildSignal);
        };
        const build = (buildSignal?: AbortSignal): Readable => {
          const slots = options.buildSlots;
          if (plan && !slots) return streamOf(plan, buildSignal);
          const out = new PassThrough();
          void (async () => {
            let release = (): void => {};
            try {
              // The slot is held while the build runs, including while its reader is slow.
              if (slots) release = await slots.acquire(buildSignal);
              // The cache found the zip, then lost it (removed from outside, or damaged): it was
              // valid when it was built, so plan it now; the rebuild has the length already promised.
              await pipeline(streamOf(plan ?? (await zipPlan(repo, path, version, resolved)), buildSignal), out);
            } catch (err) {
              out.destroy(err as Error);
            } finally {
              release();
            }
          })();
          return out;
        };
        return {
          etag: `"${key.slice(0, 43)}"`,
          size: cachedSize,
          cached: zipCache !== null,
          open(openSignal?: AbortSignal) {
            if (zipCache) return zipCache.open(key, build, openSignal);
            return build(openSignal);
          },
        };
      });
    },
  };
}

/** go.mod answers served from the memory cache (for the download audit): views made for each answer, so the cached buffer itself is never marked. */
const servedFromMemory = new WeakSet<Buffer>();

function fromMemory(cached: Buffer): Buffer {
  const view = cached.subarray();
  servedFromMemory.add(view);
  return view;
}

/** Whether a buffer `goMod` returned came from its memory cache rather than the repository. */
export function isGoModFromMemory(goMod: Buffer): boolean {
  return servedFromMemory.has(goMod);
}

function goModKey(commit: string, path: string, version: string): string {
  return `${commit}\0${path}\0${version}`;
}
