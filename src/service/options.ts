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
  /** 16 MiB of served go.mod files per project. */
  memoryBytes: 16 * 1024 * 1024,
  /** 64 MiB of inflated git objects per repository. */
  objectBytes: 64 * 1024 * 1024,
} as const;

export const CacheOptionsSchema = z.strictObject({
  /**
   * Folder for the disk cache: finished zips and version pins (in a config file, relative to its
   * folder). Defaults to none: every zip is built again and pins last as long as the process.
   */
  dir: z.string().min(1).optional(),
  /** Upper bound of the disk cache's zips in bytes; the least recently used go first. Defaults to 2 GiB. */
  maxBytes: z.number().int().positive().optional(),
  /** Upper bound of each project's in-memory cache of served go.mod files, in bytes. Defaults to 16 MiB. */
  memoryBytes: z.number().int().positive().optional(),
  /**
   * Bytes of inflated git objects (delta bases, trees, commits) kept per repository; 0 keeps
   * none. Defaults to 64 MiB.
   */
  objectBytes: z.number().int().nonnegative().optional(),
});

/** Module cache settings; every field is optional and defaults to {@link CACHE_DEFAULTS} (no disk cache). */
export type CacheOptions = z.input<typeof CacheOptionsSchema>;
