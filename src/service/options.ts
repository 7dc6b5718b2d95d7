import { availableParallelism } from 'node:os';
import { z } from 'zod';

/**
 * The option shapes the serving core takes, each defined once: the config file (src/config.ts),
 * the router (routes/go-proxy-options.ts) and `createProjectServices` all check against these.
 */

/**
 * GitLab's host part of module paths: a lower-case host with at least one dot and an optional
 * path, no scheme, no port (module paths cannot hold one) and no trailing slash.
 */
export const ModulePrefix = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]*(\.[a-z0-9-]+)+(\/[A-Za-z0-9._~-]+)*$/,
    'expected a host and optional path such as "gitlab.example.com" or "gitlab.example.com/gitlab" (no scheme, no port, no trailing slash)',
  );

/** The defaults of {@link CacheOptions}, stated once. */
export const CACHE_DEFAULTS = {
  /** 2 GiB: room for a few hundred typical module zips. */
  maxBytes: 2 * 1024 * 1024 * 1024,
  /**
   * 128 MiB for everything the caches keep, across all projects. Measured on the fleet benchmark,
   * the process's RSS beyond this comes mostly from zip builds (V8's heap and the allocator's
   * high-water mark), not from the caches (BENCHMARKS.md).
   */
  memoryBytes: 128 * 1024 * 1024,
  /**
   * 64 repositories open at once. An idle small one costs ~15 KB and a descriptor, a large one
   * its pack indexes (counted in memoryBytes); a fleet whose busy set is larger reopens
   * repositories (a few ms each) unless this is raised.
   */
  openRepositories: 64,
  /** A repository unused for 60 s is closed. */
  idleSeconds: 60,
} as const;

/** Cold zip builds at once when `cache.maxConcurrentBuilds` is not set: one per CPU (a build is CPU-bound: inflate, filter, deflate). */
export function defaultMaxConcurrentBuilds(): number {
  return Math.max(1, availableParallelism());
}

export const CacheOptionsSchema = z.strictObject({
  /**
   * Folder for the disk cache: finished zips and version pins (in a config file, relative to its
   * folder). Defaults to none: every zip is built again and pins last as long as the process.
   */
  dir: z.string().min(1).optional(),
  /** Upper bound of the disk cache's zips in bytes; the least recently used go first. Defaults to 2 GiB. */
  maxBytes: z.number().int().positive().optional(),
  /**
   * One memory budget for the whole process, in bytes: inflated git objects (delta bases, trees,
   * commits), served go.mod files, parent lists and ancestor sets, zip plans, of every project
   * together; the least recently used go first; 0 keeps nothing. Defaults to 128 MiB.
   */
  memoryBytes: z.number().int().nonnegative().optional(),
  /**
   * Repositories open at once (each holds its pack indexes in memory and its packs open); the
   * least recently used idle one is closed first, and one serving a request never is. Defaults to 64.
   */
  openRepositories: z.number().int().positive().optional(),
  /** A repository that served nothing for this many seconds is closed; 0 keeps it until evicted. Defaults to 60. */
  idleSeconds: z.number().nonnegative().optional(),
  /**
   * Zip builds running at once across every project; more wait in one first-come-first-served
   * queue (a client that leaves also leaves the queue), so 100 cold requests finish one batch
   * after another instead of all together at the end. Cached zips are never queued. Defaults to the number of CPUs.
   */
  maxConcurrentBuilds: z.number().int().positive().optional(),
  /** Replaced by `memoryBytes`, one budget for every cache of every project. */
  objectBytes: z
    .unknown()
    .refine(() => false, 'replaced by cache.memoryBytes: one memory budget for the whole process')
    .optional(),
});

/** Module cache settings; every field is optional and defaults to {@link CACHE_DEFAULTS} (no disk cache). */
export type CacheOptions = z.input<typeof CacheOptionsSchema>;
