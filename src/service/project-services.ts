import type { Logger } from '../logger.js';
import type { ModuleService } from './module-service.js';
import { openGitRepository } from '../git/open-repository.js';
import type { GitRepository } from '../git/repository.js';
import { silentLogger as defaultLogger } from '../logger.js';
import { createModuleService } from './module-service.js';
import { ZipCache } from '../zip/cache.js';
import { modulePathsFromTags, warmModules, type WarmProgress } from './warm.js';
import { createDiskPins, createMemoryPins } from './version-pins.js';

/** What the proxy needs to know about a project to serve its modules. */
export interface ServedProject {
  id: number | string;
  /** Full path, e.g. "group/sub/project". */
  fullPath: string;
  /** The project's git directory (bare repository, or a work tree's .git). */
  gitdir: string;
}

export interface CacheOptions {
  /** Folder for the on-disk cache; no disk cache when omitted. */
  dir?: string;
  /** Upper bound for the disk cache in bytes; oldest entries are evicted. */
  maxBytes?: number;
  /** Upper bound for the in-memory cache in bytes. */
  memoryBytes?: number;
  /** Bytes of inflated git objects kept per repository (see OpenRepositoryOptions.cacheBytes). */
  objectBytes?: number;
}

export interface ProjectServicesOptions {
  /** GitLab's host part of module paths, e.g. "gitlab.example.com" or "gitlab.example.com/gitlab". */
  modulePrefix: string;
  cache?: CacheOptions;
  logger?: Logger;
}

/** 2 GiB: room for a few hundred typical module zips. */
export const DEFAULT_CACHE_BYTES = 2 * 1024 * 1024 * 1024;

/** Opens (and keeps open) one ModuleService per project repository. */
export interface ProjectServices {
  /** The service for a project; opening a repository that cannot be read throws NotFoundError. */
  get(project: ServedProject): Promise<ModuleService>;
  /** Builds the cache entries of every listed version of every module the project's tags name. */
  warm(project: ServedProject, onProgress?: (p: WarmProgress) => void, signal?: AbortSignal): Promise<WarmProgress>;
  close(): Promise<void>;
}


export function createProjectServices(options: ProjectServicesOptions): ProjectServices {
  const logger = options.logger ?? defaultLogger;
  const modulePrefix = options.modulePrefix.replace(/\/+$/, '');
  const repositories = new Map<string, Promise<GitRepository>>();
  const services = new Map<string, Promise<ModuleService>>();
  const zipCache = options.cache?.dir
    ? new ZipCache({ dir: options.cache.dir, maxBytes: options.cache.maxBytes ?? DEFAULT_CACHE_BYTES, logger })
    : null;

  function openRepository(gitdir: string): Promise<GitRepository> {
    const known = repositories.get(gitdir);
    if (known) return known;
    const objectBytes = options.cache?.objectBytes;
    const repo = openGitRepository(gitdir, objectBytes === undefined ? {} : { cacheBytes: objectBytes });
    repositories.set(gitdir, repo);
    // A repository that cannot be opened now may be created later; do not remember the failure.
    repo.catch(() => repositories.delete(gitdir));
    return repo;
  }

  return {
    get(project) {
      const key = `${project.id}\0${project.fullPath}\0${project.gitdir}`;
      let service = services.get(key);
      if (!service) {
        service = (async () => {
          const repository = await openRepository(project.gitdir);
          const scope = `${project.id}\0${project.fullPath}`;
          return createModuleService({
            repository,
            codeRoot: `${modulePrefix}/${project.fullPath}`,
            pins: options.cache?.dir ? createDiskPins(options.cache.dir, scope) : createMemoryPins(),
            zipCache,
            ...(options.cache?.memoryBytes ? { memoryBytes: options.cache.memoryBytes } : {}),
            logger,
          });
        })();
        services.set(key, service);
        service.catch(() => services.delete(key));
      }
      return service;
    },
    async warm(project, onProgress, signal) {
      const service = await this.get(project);
      const refs = await (await openRepository(project.gitdir)).refs();
      const paths = modulePathsFromTags(refs, `${modulePrefix}/${project.fullPath}`);
      return warmModules(service, paths, onProgress, signal);
    },
    async close() {
      const repos = await Promise.allSettled(repositories.values());
      repositories.clear();
      services.clear();
      await Promise.all(repos.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)));
    },
  };
}
