import { z } from 'zod';
import { openGitRepository } from '../git/open-repository.js';
import type { GitRepository } from '../git/repository.js';
import { type Logger, silentLogger } from '../logger.js';
import { parseOrThrow } from '../support/zod-errors.js';
import { ZipCache } from '../zip/cache.js';
import { createModuleService, type ModuleService } from './module-service.js';
import { CACHE_DEFAULTS, type CacheOptions, CacheOptionsSchema, ModulePrefix } from './options.js';
import { createDiskPins, createMemoryPins } from './version-pins.js';
import { modulePathsFromTags, type WarmProgress, warmModules } from './warm.js';

/** What the proxy needs to know about a project to serve its modules. */
export interface ServedProject {
  id: number | string;
  /** Full path, e.g. "group/sub/project". */
  fullPath: string;
  /** The project's git directory (bare repository, or a work tree's .git). */
  gitdir: string;
}

export interface ProjectServicesOptions {
  /** GitLab's host part of module paths, e.g. "gitlab.example.com" or "gitlab.example.com/gitlab". */
  modulePrefix: string;
  /** Module cache. Defaults to memory only (no zip is kept, pins last as long as the process). */
  cache?: CacheOptions;
  /** Pino-compatible logger. Defaults to silent. */
  logger?: Logger;
}

const ProjectServicesOptionsSchema = z.object({ modulePrefix: ModulePrefix, cache: CacheOptionsSchema.optional() });

/** Opens (and keeps open) one ModuleService per project repository. */
export interface ProjectServices {
  /** The service for a project; opening a repository that cannot be read throws NotFoundError. */
  get(project: ServedProject): Promise<ModuleService>;
  /** Builds the cache entries of every listed version of every module the project's tags name. */
  warm(project: ServedProject, onProgress?: (p: WarmProgress) => void, signal?: AbortSignal): Promise<WarmProgress>;
  close(): Promise<void>;
}

/** Options are checked now; a bad one throws ConfigError naming it. */
export function createProjectServices(options: ProjectServicesOptions): ProjectServices {
  const { modulePrefix, cache = {} } = parseOrThrow(ProjectServicesOptionsSchema, options, 'createProjectServices options');
  const logger = options.logger ?? silentLogger;
  const objectBytes = cache.objectBytes ?? CACHE_DEFAULTS.objectBytes;
  const memoryBytes = cache.memoryBytes ?? CACHE_DEFAULTS.memoryBytes;
  const repositories = new Map<string, Promise<GitRepository>>();
  const services = new Map<string, Promise<ModuleService>>();
  const zipCache = cache.dir ? new ZipCache({ dir: cache.dir, maxBytes: cache.maxBytes ?? CACHE_DEFAULTS.maxBytes, logger }) : null;

  function openRepository(gitdir: string): Promise<GitRepository> {
    const known = repositories.get(gitdir);
    if (known) return known;
    const repo = openGitRepository(gitdir, { cacheBytes: objectBytes });
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
            pins: cache.dir ? createDiskPins(cache.dir, scope) : createMemoryPins(),
            zipCache,
            memoryBytes,
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
