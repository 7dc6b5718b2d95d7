import { z } from 'zod';
import { InternalError, isNotFound } from '../errors.js';
import { openGitRepository } from '../git/open-repository.js';
import type { GitRepository } from '../git/repository.js';
import { type Logger, silentLogger } from '../logger.js';
import type { Upstream } from '../mirror/upstream-options.js';
import { createProxyMetrics, type MetricsRegistry } from '../observability/metrics.js';
import { silentTelemetry } from '../observability/telemetry.js';
import { FifoSlots } from '../support/fifo-slots.js';
import { MemoryPool } from '../support/memory-pool.js';
import { parseOrThrow } from '../support/zod-errors.js';
import { ZipCache } from '../zip/cache.js';
import { moduleRootOf } from './module-roots.js';
import { createModuleService, type ModuleService } from './module-service.js';
import { CACHE_DEFAULTS, type CacheOptions, CacheOptionsSchema, defaultMaxConcurrentBuilds, ModulePrefix } from './options.js';
import { createDiskPins, createMemoryPins, type VersionPins } from './version-pins.js';
import { modulePathsFromTags, type WarmProgress, warmModules } from './warm.js';

/** What the proxy needs to know about a project to serve its modules. */
export interface ServedProject {
  id: number | string;
  /** Full path, e.g. "group/sub/project". */
  fullPath: string;
  /** The project's git directory (bare repository, or a work tree's .git). */
  gitdir: string;
  /**
   * The module path of the repository root (a vanity path such as "go.example.org/lib" or
   * "gopkg.in/yaml.v3"). Defaults to `<modulePrefix>/<fullPath>`.
   */
  modulePath?: string | undefined;
  /** Where the repository lives upstream: `gitdir` is then a bare mirror the proxy creates and keeps fresh (src/mirror). */
  upstream?: Upstream | undefined;
}

export interface ProjectServicesOptions {
  /** GitLab's host part of module paths, e.g. "gitlab.example.com" or "gitlab.example.com/gitlab". */
  modulePrefix: string;
  /** Module cache and memory bounds. Defaults to memory only (no zip is kept, pins last as long as the process). */
  cache?: CacheOptions;
  /** Pino-compatible logger. Defaults to silent. */
  logger?: Logger;
  /** A prom-client `Registry` to report cache hits, zip builds and open repositories into. Defaults to none. */
  metrics?: MetricsRegistry;
}

/** A project's service, held open until `release()`: the repository behind it is not closed while a lease is out. */
export interface ServiceLease {
  service: ModuleService;
  /** Ends the lease; safe to call more than once. */
  release(): void;
}

export interface ProjectServicesStats {
  /** Projects with an open service (and repository). */
  openServices: number;
  /** Git repositories open (projects may share one). */
  openRepositories: number;
  /** Leases not yet released: requests being served. */
  leases: number;
  /** Bytes held by the shared memory pool: objects, go.mod files, ancestry, zip plans. */
  memoryBytes: number;
  /** Zip builds running, and waiting for a slot (`cache.maxConcurrentBuilds`). */
  zipBuilds?: { running: number; queued: number; limit: number };
}

/**
 * Opens one ModuleService per project on demand, keeps at most `cache.openRepositories` of them
 * open (the least recently used idle one is closed first; one with a lease never is), and closes
 * any that stayed idle for `cache.idleSeconds`. Every service and repository keeps its caches in
 * one memory pool of `cache.memoryBytes`, so memory is bounded per process, not per project.
 */
export interface ProjectServices {
  /** Leases the service of a project; opening a repository that cannot be read throws NotFoundError. */
  acquire(project: ServedProject): Promise<ServiceLease>;
  /** Builds the cache entries of every listed version of every module the project's tags name. */
  warm(project: ServedProject, onProgress?: (p: WarmProgress) => void, signal?: AbortSignal): Promise<WarmProgress>;
  /** The modules the project's tags name, each with its listed versions (modules with none left out). */
  modules(project: ServedProject): Promise<{ path: string; versions: string[] }[]>;
  /** What is open and held now. */
  stats(): ProjectServicesStats;
  /** Closes every service and repository (running leases end with errors on their next read). */
  close(): Promise<void>;
}

const ProjectServicesOptionsSchema = z.object({ modulePrefix: ModulePrefix, cache: CacheOptionsSchema.optional() });

interface OpenRepository {
  repository: Promise<GitRepository>;
  /** Services using it. */
  users: number;
  /** Its pack indexes, counted against the memory pool while it is open. */
  indexBytes: number;
  unreserve: () => void;
}

interface Entry {
  key: string;
  gitdir: string;
  service: Promise<ModuleService & { close(): void }>;
  leases: number;
  idleTimer: NodeJS.Timeout | null;
}

/** Options are checked now; a bad one throws ConfigError naming it. */
export function createProjectServices(options: ProjectServicesOptions): ProjectServices {
  const { modulePrefix, cache = {} } = parseOrThrow(ProjectServicesOptionsSchema, options, 'createProjectServices options');
  const logger = options.logger ?? silentLogger;
  const metrics = options.metrics ? createProxyMetrics(options.metrics) : null;
  const telemetry = metrics ?? silentTelemetry;
  const maxOpen = cache.openRepositories ?? CACHE_DEFAULTS.openRepositories;
  const idleMs = (cache.idleSeconds ?? CACHE_DEFAULTS.idleSeconds) * 1000;
  const memory = new MemoryPool(cache.memoryBytes ?? CACHE_DEFAULTS.memoryBytes);
  // One queue for every project: the bound is on the process's CPU and memory, not per project.
  const buildSlots = new FifoSlots(cache.maxConcurrentBuilds ?? defaultMaxConcurrentBuilds());
  const zipCache = cache.dir ? new ZipCache({ dir: cache.dir, maxBytes: cache.maxBytes ?? CACHE_DEFAULTS.maxBytes, logger }) : null;
  // Pins outlive the services: a version served once keeps its commit however often its
  // repository is closed and opened again. On disk when there is a cache folder.
  const memoryPins = createMemoryPins();
  const repositories = new Map<string, OpenRepository>();
  // In least-recently-used order: a Map iterates in insertion order, and use re-inserts.
  const entries = new Map<string, Entry>();
  let closed = false;

  function openRepository(gitdir: string): OpenRepository {
    let open = repositories.get(gitdir);
    if (!open) {
      const repository = openGitRepository(gitdir, { memory });
      const created: OpenRepository = { repository, users: 0, indexBytes: 0, unreserve: () => {} };
      open = created;
      repositories.set(gitdir, created);
      repository.then(
        (r) => {
          if (repositories.get(gitdir) === created) countIndexes(created, r);
        },
        () => undefined,
      );
      // A repository that cannot be opened now may be created later; do not remember the failure.
      repository.catch(() => {
        if (repositories.get(gitdir) === created) repositories.delete(gitdir);
      });
    }
    open.users++;
    return open;
  }

  /** Closing repositories, so that `close()` can wait for them. */
  const closing = new Set<Promise<void>>();

  /** (Re)counts a repository's pack indexes against the pool: a repack changes them. */
  function countIndexes(open: OpenRepository, repository: GitRepository): void {
    const bytes = repository.indexBytes();
    if (bytes === open.indexBytes) return;
    open.unreserve();
    open.indexBytes = bytes;
    open.unreserve = memory.reserve(bytes);
  }

  function releaseRepository(gitdir: string, open: OpenRepository): void {
    open.users--;
    if (open.users > 0) return;
    if (repositories.get(gitdir) === open) repositories.delete(gitdir);
    open.unreserve();
    open.unreserve = () => {};
    const done = open.repository.then(
      (r) => r.close(),
      () => undefined,
    );
    closing.add(done);
    void done.finally(() => closing.delete(done));
  }

  function pinsFor(scope: string): VersionPins {
    if (cache.dir) return createDiskPins(cache.dir, scope, logger);
    return {
      get: (path, version) => memoryPins.get(`${scope}\0${path}`, version),
      set: (path, version, resolved) => memoryPins.set(`${scope}\0${path}`, version, resolved),
    };
  }

  function openEntry(project: ServedProject): Entry {
    const key = `${project.id}\0${project.fullPath}\0${project.gitdir}\0${moduleRootOf(project, modulePrefix)}`;
    const open = openRepository(project.gitdir);
    const entry: Entry = {
      key,
      gitdir: project.gitdir,
      leases: 0,
      idleTimer: null,
      service: open.repository.then((repository) =>
        createModuleService({
          repository,
          codeRoot: moduleRootOf(project, modulePrefix),
          pins: pinsFor(pinScope(project, modulePrefix)),
          zipCache,
          memory,
          logger,
          telemetry,
          buildSlots,
        }),
      ),
    };
    entries.set(key, entry);
    entry.service.catch(() => closeEntry(entry));
    // Resolved once, so that closing the entry can release the repository exactly once.
    entryRepositories.set(entry, open);
    return entry;
  }
  const entryRepositories = new WeakMap<Entry, OpenRepository>();

  function closeEntry(entry: Entry): void {
    if (entries.get(entry.key) === entry) entries.delete(entry.key);
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = null;
    const open = entryRepositories.get(entry);
    if (!open) return;
    entryRepositories.delete(entry);
    entry.service.then(
      (service) => service.close(),
      () => undefined,
    );
    releaseRepository(entry.gitdir, open);
  }

  /**
   * Closes least recently used idle services while more than `maxOpen` are open, or while the
   * open repositories' pack indexes take more than half the memory budget (the caches keep the rest).
   */
  function trim(): void {
    const over = (): boolean => entries.size > maxOpen || memory.reserved > memory.maxBytes / 2;
    if (!over()) return;
    for (const entry of [...entries.values()]) {
      if (!over()) break;
      if (entry.leases === 0) closeEntry(entry);
    }
  }

  async function acquire(project: ServedProject): Promise<ServiceLease> {
    return (await acquireEntry(project)).lease;
  }

  async function acquireEntry(project: ServedProject): Promise<{ lease: ServiceLease; repository: GitRepository }> {
    if (closed) throw new InternalError('project services are closed', { op: 'services' });
    const key = `${project.id}\0${project.fullPath}\0${project.gitdir}\0${moduleRootOf(project, modulePrefix)}`;
    let entry = entries.get(key);
    if (entry) {
      entries.delete(key);
      entries.set(key, entry);
    } else {
      entry = openEntry(project);
    }
    entry.leases++;
    if (entry.idleTimer) {
      clearTimeout(entry.idleTimer);
      entry.idleTimer = null;
    }
    trim();
    const held = entry;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      held.leases--;
      if (held.leases > 0 || entries.get(held.key) !== held) return;
      if (idleMs > 0) {
        held.idleTimer = setTimeout(() => {
          if (held.leases === 0) closeEntry(held);
        }, idleMs);
        held.idleTimer.unref();
      }
      trim();
    };
    try {
      const service = await held.service;
      const open = entryRepositories.get(held)!;
      const repository = await open.repository;
      if (repositories.get(held.gitdir) === open) countIndexes(open, repository);
      trim();
      return { lease: { service, release }, repository };
    } catch (err) {
      release();
      throw err;
    }
  }

  const services: ProjectServices = {
    acquire,
    async warm(project, onProgress, signal) {
      const { lease, repository } = await acquireEntry(project);
      try {
        const refs = await repository.refs();
        const paths = modulePathsFromTags(refs, moduleRootOf(project, modulePrefix));
        return await warmModules(lease.service, paths, onProgress, signal);
      } finally {
        lease.release();
      }
    },
    async modules(project) {
      const { lease, repository } = await acquireEntry(project);
      try {
        const out: { path: string; versions: string[] }[] = [];
        for (const path of modulePathsFromTags(await repository.refs(), moduleRootOf(project, modulePrefix))) {
          try {
            const versions = await lease.service.list(path);
            if (versions.length > 0) out.push({ path, versions });
          } catch (err) {
            if (!isNotFound(err)) throw err;
          }
        }
        return out;
      } finally {
        lease.release();
      }
    },
    stats() {
      let leases = 0;
      for (const entry of entries.values()) leases += entry.leases;
      return {
        openServices: entries.size,
        openRepositories: repositories.size,
        leases,
        memoryBytes: memory.bytes,
        zipBuilds: { running: buildSlots.running, queued: buildSlots.waiting, limit: buildSlots.limit },
      };
    },
    async close() {
      closed = true;
      unwatch();
      for (const entry of [...entries.values()]) closeEntry(entry);
      await Promise.allSettled([...closing]);
    },
  };
  const unwatch = metrics ? metrics.watch(services) : () => {};
  return services;
}

/** Pins of a project with the default module root keep the scope they had before vanity paths. */
function pinScope(project: ServedProject, modulePrefix: string): string {
  const scope = `${project.id}\0${project.fullPath}`;
  return project.modulePath === undefined ? scope : `${scope}\0${moduleRootOf(project, modulePrefix)}`;
}
