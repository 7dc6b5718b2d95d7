import { z } from 'zod';
import { type Logger, silentLogger } from '../src/logger.js';
import type { MirrorKeeper } from '../src/mirror/mirror-keeper.js';
import type { MetricsRegistry } from '../src/observability/metrics.js';
import { type CacheOptions, CacheOptionsSchema, ModulePrefix } from '../src/service/options.js';
import type { ProjectServices } from '../src/service/project-services.js';
import type { Authenticate, CanRead, Principal, ProjectStore } from '../src/service/stores.js';
import { parseOrThrow } from '../src/support/zod-errors.js';
import type { OnDownload } from './download-audit.js';

/** The router's options, checked by `parseRouterOptions` when the router is created. */
export interface GoProxyRouterOptions<P extends Principal = Principal> {
  /** GitLab's host part of module paths, e.g. "gitlab.example.com" or "gitlab.example.com/gitlab". */
  modulePrefix: string;
  /** Finds a project by numeric id or full path (`findProject('42')`, `findProject('group/project')`). */
  projects: ProjectStore;
  /** Turns presented credentials into a principal, or null when they are not valid. */
  authenticate: Authenticate<P>;
  /** Whether a principal may read a private project (public and internal ones need no check). */
  canRead: CanRead<P>;
  /** Pino-compatible logger. Defaults to silent. */
  logger?: Logger;
  /**
   * Module cache and memory bounds. Defaults to memory only (no zip is kept, pins last as long as
   * the process). With `services`, only `cache.dir` is read: whether POST …/-/warm has a disk cache to fill.
   */
  cache?: CacheOptions;
  /** Shares module services (and their caches) with other routers. Defaults to a new set per router. */
  services?: ProjectServices;
  /**
   * A prom-client `Registry` of the host's to register the proxy's metrics into (`goproxy_*`, and
   * Node's default metrics unless the registry has them). Defaults to none: no metrics.
   */
  metrics?: MetricsRegistry;
  /** Called once per `.zip` or `.mod` served in full (GET, 200), e.g. to count package downloads. Errors are logged. */
  onDownload?: OnDownload;
  /** The principal's name in download events. Defaults to its `username` or `name` field. */
  principalName?: (principal: P) => string;
  /** Keeps the mirrors of projects with an `upstream` fresh (src/mirror). Defaults to one per router. */
  mirrors?: MirrorKeeper;
}

/** The options as the router uses them: checked, with the logger defaulted. */
export interface CheckedRouterOptions<P extends Principal> extends Omit<GoProxyRouterOptions<P>, 'logger'> {
  logger: Logger;
}

function hasMethods(value: unknown, names: readonly string[]): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return names.every((name) => typeof record[name] === 'function');
}

/** Every method the router calls on each injected object, so a wrong one fails here and not on a request. */
const RouterOptionsSchema = z.strictObject({
  modulePrefix: ModulePrefix,
  projects: z.custom<ProjectStore>((v) => hasMethods(v, ['findProject']), {
    error: 'expected an object with a findProject(idOrFullPath) function',
  }),
  authenticate: z.custom<Authenticate<Principal>>((v) => typeof v === 'function', {
    error: 'expected a function (credentials) => principal | null',
  }),
  canRead: z.custom<CanRead<Principal>>((v) => typeof v === 'function', {
    error: 'expected a function (principal, project) => boolean',
  }),
  logger: z
    .custom<Logger>((v) => hasMethods(v, ['debug', 'info', 'warn', 'error']), {
      error: 'expected a pino-compatible logger with debug, info, warn and error',
    })
    .optional(),
  cache: CacheOptionsSchema.optional(),
  services: z
    .custom<ProjectServices>((v) => hasMethods(v, ['acquire', 'warm', 'stats', 'close']), {
      error: 'expected a ProjectServices (acquire, warm, stats and close functions)',
    })
    .optional(),
  metrics: z
    .custom<MetricsRegistry>((v) => hasMethods(v, ['registerMetric', 'getSingleMetric', 'metrics']), {
      error: "expected a prom-client Registry (new Registry() from 'prom-client')",
    })
    .optional(),
  onDownload: z.custom<OnDownload>((v) => typeof v === 'function', { error: 'expected a function (event) => void' }).optional(),
  principalName: z
    .custom<(p: Principal) => string>((v) => typeof v === 'function', { error: 'expected a function (principal) => string' })
    .optional(),
  mirrors: z
    .custom<MirrorKeeper>((v) => hasMethods(v, ['fresh', 'refresh', 'idle']), { error: 'expected a MirrorKeeper (createMirrorKeeper)' })
    .optional(),
});

/** Checks router options once and returns them as the router uses them; throws ConfigError naming the bad option. */
export function parseRouterOptions<P extends Principal>(options: GoProxyRouterOptions<P>): CheckedRouterOptions<P> {
  const checked = parseOrThrow(RouterOptionsSchema, options, 'createGoProxyRouter options');
  return {
    modulePrefix: checked.modulePrefix,
    projects: checked.projects,
    // The schema checks only that the hooks are functions; their principal type is the caller's.
    authenticate: options.authenticate,
    canRead: options.canRead,
    logger: checked.logger ?? silentLogger,
    ...(checked.cache && { cache: checked.cache }),
    ...(checked.services && { services: checked.services }),
    ...(checked.metrics && { metrics: checked.metrics }),
    ...(options.onDownload && { onDownload: options.onDownload }),
    ...(options.principalName && { principalName: options.principalName }),
    ...(checked.mirrors && { mirrors: checked.mirrors }),
  };
}
