import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import express, { type Express } from 'express';
import { Registry } from 'prom-client';
import { createAuthFailureLimiter } from '../middleware/auth-failure-limit.js';
import { createErrorHandler, sendError } from '../middleware/error-handler.js';
import type { ProjectConfig, ServerConfig } from '../src/config.js';
import { type ConfigGroupStore, createConfigGroupStore } from '../src/config-groups.js';
import {
  type ConfigPrincipal,
  type ConfigProjectStore,
  type ConfigTokenStore,
  createConfigProjectStore,
  createConfigTokenStore,
} from '../src/config-stores.js';
import { ConfigError, errorLogFields } from '../src/errors.js';
import { type Logger, silentLogger } from '../src/logger.js';
import { createMirrorKeeper, type MirroredProject, type MirrorKeeper } from '../src/mirror/mirror-keeper.js';
import { MIRROR_DEFAULTS, upstreamFromConfig } from '../src/mirror/upstream-options.js';
import type { MetricsRegistry } from '../src/observability/metrics.js';
import { startTracing } from '../src/observability/tracing-sdk.js';
import { createProjectServices, type ProjectServices } from '../src/service/project-services.js';
import type { Credentials, Principal, Project } from '../src/service/stores.js';
import { applyConnectionLimits, serverCreationOptions } from './connection-limits.js';
import { createGoGetDiscovery } from './go-get-discovery.js';
import { createGoProxyRouter } from './go-proxy.js';
import { createGroupGoProxyRouter } from './group-proxy.js';
import type { Lifecycle } from './health.js';
import { installOperations } from './operations.js';

export interface AppOptions {
  /** Pino-compatible logger. Defaults to silent. */
  logger?: Logger;
  /** Module services to use (and close yourself). Defaults to a new set for this app. */
  services?: ProjectServices;
  /** Clock for token expiry. Defaults to the system clock. */
  now?: () => Date;
  /** The prom-client Registry `/metrics` serves. Defaults to a new one per app (never prom-client's global one). */
  metrics?: MetricsRegistry;
  /** Keeps the mirrors of projects with an `upstream` fresh. Defaults to one for this app. */
  mirrors?: MirrorKeeper;
}

/** The standalone app: the Go proxy for the configured projects, `/-/health`, text 404s. */
export function createApp(config: ServerConfig, options: AppOptions = {}): Express {
  return createReloadableApp(config, options).app;
}

/** The config-backed stores a request reads; swapped whole by a reload, so a request sees one config or the other. */
interface ConfigStores {
  projects: ConfigProjectStore;
  tokens: ConfigTokenStore;
  groups: ConfigGroupStore;
}

function storesOf(config: ServerConfig, now: (() => Date) | undefined): ConfigStores {
  const projects = createConfigProjectStore(withGitdirs(config.projects));
  return {
    projects,
    tokens: createConfigTokenStore(config.users, { ...(now && { now }), deployTokens: config.deployTokens }),
    groups: createConfigGroupStore(
      config.groups,
      config.projects.map((p) => p.path),
      projects,
      config.modulePrefix,
    ),
  };
}

function createReloadableApp(
  config: ServerConfig,
  { logger = silentLogger, services: given, now, metrics: givenMetrics, mirrors }: AppOptions,
  lifecycle: () => Lifecycle = () => 'serving',
): { app: Express; swap(config: ServerConfig): void } {
  const metrics = config.monitoring.metrics ? (givenMetrics ?? new Registry()) : undefined;
  // One set of services for the project and the group endpoints: one cache, one memory budget.
  const services =
    given ??
    createProjectServices({
      modulePrefix: config.modulePrefix,
      ...(config.cache && { cache: config.cache }),
      logger,
      ...(metrics && { metrics }),
    });
  let stores = storesOf(config, now);
  let current = config;
  const issuedBy = new WeakMap<object, ConfigTokenStore>();
  const app = express();
  app.disable('x-powered-by');
  // The proxy sets strong ETags itself; Express's weak ones would only add work.
  app.set('etag', false);
  // req.ip, for the failed-authentication limit and the logs, reads X-Forwarded-For only from trusted proxies.
  app.set('trust proxy', config.server.trustProxy);

  installOperations(app, {
    logger,
    registry: metrics,
    monitoring: () => current.monitoring,
    lifecycle,
    repositories: () => withGitdirs(current.projects).map((p) => ({ id: p.id, gitdir: p.repository })),
    tls: config.server.tls !== undefined,
  });
  // The store's reset timer is unref'd, so an app that is dropped without a close leaves nothing running.
  if (config.server.limits.authFailures) app.use(createAuthFailureLimiter(config.server.limits.authFailures, logger).handler);

  app.use(
    createGoProxyRouter({
      modulePrefix: config.modulePrefix,
      // Through the current stores, read per call: a reload takes effect on the next request.
      projects: { findProject: (idOrFullPath) => stores.projects.findProject(idOrFullPath) },
      authenticate: (credentials) => {
        const tokens = stores.tokens;
        const principal = tokens.authenticate(credentials);
        if (principal) issuedBy.set(principal, tokens);
        return principal;
      },
      // The store that knew the principal answers for it, even if a reload came in between.
      canRead: (principal, project) => (issuedBy.get(principal) ?? stores.tokens).canRead(principal as ConfigPrincipal, project),
      logger,
      ...(metrics && { metrics }),
      services,
      ...(mirrors && { mirrors }),
      // Also with `services`: the router reads from it whether there is a disk cache for POST …/-/warm to fill.
      cache: config.cache ?? {},
    }),
  );

  const hooks = {
    authenticate: (credentials: Credentials) => {
      const tokens = stores.tokens;
      const principal = tokens.authenticate(credentials);
      if (principal) issuedBy.set(principal, tokens);
      return principal;
    },
    canRead: (principal: Principal, project: Project) =>
      (issuedBy.get(principal) ?? stores.tokens).canRead(principal as ConfigPrincipal, project),
  };
  app.use(
    createGroupGoProxyRouter({
      modulePrefix: config.modulePrefix,
      groups: { findGroup: (id) => stores.groups.findGroup(id), groupProjects: (group) => stores.groups.groupProjects(group) },
      ...hooks,
      logger,
      services,
    }),
  );
  app.use(
    createGoGetDiscovery({
      modulePrefix: config.modulePrefix,
      roots: { projectsForModule: (modulePath) => stores.groups.projectsForModule(modulePath) },
      ...hooks,
      externalUrl: config.server.externalUrl,
      goImport: config.server.goImport,
      logger,
    }),
  );

  app.use(function notFound(_req, res) {
    sendError(res, 404, '404 Not Found');
  });
  app.use(createErrorHandler({ logger }));
  return {
    app,
    swap(next) {
      stores = storesOf(next, now);
      current = next;
    },
  };
}

/** Config keys a reload cannot change: they shape the listening socket and the services. */
const RESTART_KEYS = ['server', 'modulePrefix', 'cache'] as const;

export interface StartOptions {
  /** Pino-compatible logger. Defaults to silent. */
  logger?: Logger;
  /** Module services to use (and close yourself). Defaults to a new set, closed by `close()`. */
  services?: ProjectServices;
  /** How long `close()` waits for running requests before cutting them. Defaults to 10 s. */
  shutdownTimeoutMs?: number;
  /** Clock for token expiry. Defaults to the system clock. */
  now?: () => Date;
  /** The config file `config` was loaded from, named in startup errors (a TLS file that cannot be read). */
  configFile?: string;
  /** The prom-client Registry `/metrics` serves. Defaults to a new one. */
  metrics?: MetricsRegistry;
  /** How long `close()` answers readiness with 503 before it stops accepting connections. Defaults to `monitoring.drainSeconds`. */
  drainMs?: number;
}

export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8080`; the proxy lives under `/api/v4/projects/:id/packages/go`. */
  url: string;
  port: number;
  /** Ids of projects whose repository could not be opened at startup (their requests get 404). */
  unavailableProjects: number[];
  /**
   * Serves `config` from the next request on: projects added, removed or changed, users and
   * tokens added or revoked. Requests already running finish as they started. Throws ConfigError,
   * naming the key, for a change that takes a restart (`server`, `modulePrefix`, `cache`); the
   * old config then keeps serving.
   */
  reload(config: ServerConfig): Promise<{ projects: number; users: number; unavailableProjects: number[] }>;
  /** Stops accepting connections, lets running requests finish (up to the timeout), then frees resources. */
  close(): Promise<void>;
}

/** Starts the standalone server over HTTP, or HTTPS when `server.tls` is set. */
export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? silentLogger;
  const tls = config.server.tls;
  // Read before anything is opened, so a missing file leaves nothing to close.
  const credentials = tls && {
    cert: await readTlsFile(tls.cert, 'server.tls.cert', options.configFile),
    key: await readTlsFile(tls.key, 'server.tls.key', options.configFile),
  };
  const ownsServices = !options.services;
  const tracing = config.monitoring.tracing ? startTracing(config.monitoring.tracing) : null;
  const metrics = config.monitoring.metrics ? (options.metrics ?? new Registry()) : undefined;
  const services =
    options.services ??
    createProjectServices({
      modulePrefix: config.modulePrefix,
      ...(config.cache && { cache: config.cache }),
      logger,
      ...(metrics && { metrics }),
    });

  let lifecycle: Lifecycle = 'starting';
  const mirrors = createMirrorKeeper({ logger });
  const unavailableProjects = await checkRepositories(config, services, logger, mirrors);
  const { app, swap } = createReloadableApp(
    config,
    { logger, services, mirrors, ...(metrics && { metrics }), ...(options.now && { now: options.now }) },
    () => lifecycle,
  );
  const creation = serverCreationOptions(config.server.limits);
  const server = credentials ? https.createServer({ ...credentials, ...creation }, app) : http.createServer(creation, app);
  applyConnectionLimits(server, config.server.limits, logger);
  let serving = config;
  const stopMirrors = mirrors.schedule(() => mirroredProjects(serving), MIRROR_DEFAULTS.intervalSeconds * 1000);

  try {
    await listen(server, config.server.port, config.server.host);
  } catch (err) {
    if (ownsServices) await services.close();
    await tracing?.shutdown();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const url = `${tls ? 'https' : 'http'}://${urlHost(config.server.host)}:${port}`;
  lifecycle = 'serving';
  logger.info({ op: 'startup', url, projects: config.projects.length }, 'listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    unavailableProjects,
    async reload(next) {
      for (const key of RESTART_KEYS) {
        if (!isDeepStrictEqual(next[key], serving[key])) {
          const where = options.configFile === undefined ? key : `${options.configFile}: ${key}`;
          throw new ConfigError(`${where}: changed; a change here takes a restart (the running config keeps serving)`, { op: 'reload' });
        }
      }
      // The tracer provider is registered once per process.
      if (!isDeepStrictEqual(next.monitoring.tracing, serving.monitoring.tracing)) {
        const where = options.configFile === undefined ? 'monitoring.tracing' : `${options.configFile}: monitoring.tracing`;
        throw new ConfigError(`${where}: changed; a change here takes a restart (the running config keeps serving)`, { op: 'reload' });
      }
      const unavailable = await checkRepositories(next, services, logger, mirrors);
      swap(next);
      serving = next;
      logger.info({ op: 'reload', projects: next.projects.length, users: next.users.length }, 'config reloaded');
      return { projects: next.projects.length, users: next.users.length, unavailableProjects: unavailable };
    },
    close() {
      lifecycle = 'shutting-down';
      stopMirrors();
      const drainMs = options.drainMs ?? serving.monitoring.drainSeconds * 1000;
      closing ??= drain(drainMs)
        .then(() => shutdown(server, options.shutdownTimeoutMs ?? 10_000))
        .then(() => (ownsServices ? services.close() : undefined))
        .then(() => tracing?.shutdown());
      return closing;
    },
  };
}

/** A config `repository` may be a bare repository or a work tree; the proxy wants its git directory. */
export function withGitdirs(projects: readonly ProjectConfig[]): ProjectConfig[] {
  return projects.map((project) => ({ ...project, repository: gitdirOf(project.repository) }));
}

function gitdirOf(repository: string): string {
  const dotGit = path.join(repository, '.git');
  try {
    if (statSync(dotGit).isDirectory()) return dotGit;
  } catch {
    // No .git folder: a bare repository (or nothing at all, which checkRepositories reports).
  }
  return repository;
}

/** The config's projects that have an upstream, as the mirror keeper takes them. */
function mirroredProjects(config: ServerConfig): MirroredProject[] {
  return withGitdirs(config.projects).flatMap((project) =>
    project.upstream
      ? [
          {
            id: project.id,
            gitdir: project.repository,
            upstream: upstreamFromConfig(project.upstream, (p) => p, `projects[${project.id}].upstream`),
          },
        ]
      : [],
  );
}

async function checkRepositories(
  config: ServerConfig,
  services: ProjectServices,
  logger: Logger,
  mirrors: MirrorKeeper,
): Promise<number[]> {
  const unavailable: number[] = [];
  for (const project of withGitdirs(config.projects)) {
    // A mirror missing is cloned now (a failure is logged by the keeper, and the check below reports it).
    const mirrored = mirroredProjects({ ...config, projects: [project] })[0];
    if (mirrored) await mirrors.fresh(mirrored);
    try {
      (await services.acquire({ id: project.id, fullPath: project.path, gitdir: project.repository })).release();
    } catch (err) {
      unavailable.push(project.id);
      // The project id, never the path: logs end up in places the filesystem layout should not.
      logger.warn(
        { op: 'startup', project: project.id, ...errorLogFields(err) },
        'repository cannot be opened; requests for this project will get 404',
      );
    }
  }
  return unavailable;
}

/** Reads a PEM file named by the config; the error names the config file and the key, as config errors do (never the PEM's path). */
async function readTlsFile(file: string, key: string, configFile: string | undefined): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    const where = configFile === undefined ? key : `${configFile}: ${key}`;
    throw new ConfigError(`${where}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
      cause: err,
      op: 'startup',
    });
  }
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    function onError(err: NodeJS.ErrnoException): void {
      server.off('listening', onListening);
      reject(new ConfigError(`cannot listen on ${urlHost(host)}:${port}: ${err.code ?? err.message}`, { cause: err }));
    }
    function onListening(): void {
      server.off('error', onError);
      resolve();
    }
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/** Readiness already answers 503; requests are still served while a load balancer notices. */
function drain(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

function shutdown(server: http.Server, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), timeoutMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    // Keep-alive connections with no request in flight would hold close() open until they time out.
    server.closeIdleConnections();
  });
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return host === '::' ? '[::1]' : '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
