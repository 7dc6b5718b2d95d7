/**
 * gitlab-go-proxy: GitLab's per-project Go module proxy, served straight from git repositories.
 * Mount `createGoProxyRouter` in an Express 5 app, or run `startServer` with a config file.
 */

export type { ParseConfigOptions, ProjectConfig, ServerConfig, TokenConfig, UserConfig } from '../src/config.js';
export { loadServerConfig, parseServerConfig } from '../src/config.js';
export type { ConfigPrincipal, ConfigProjectStore, ConfigTokenStore, ConfigTokenStoreOptions } from '../src/config-stores.js';
export {
  createConfigProjectStore,
  createConfigTokenStore,
  createPersonalAccessToken,
  tokenSha256,
} from '../src/config-stores.js';
export type { ErrorCode, ErrorKind } from '../src/errors.js';
// Errors a host may meet: thrown by hooks it calls, or by factories given bad options.
export {
  ConfigError,
  ConflictError,
  ForbiddenError,
  InternalError,
  InvalidRequestError,
  NotFoundError,
  ProxyError,
  UnauthenticatedError,
} from '../src/errors.js';
export type { LogFn, Logger } from '../src/logger.js';
export type { MonitoringConfig } from '../src/monitoring-config.js';
export type { AuthFailureReason, Endpoint, MetricsRegistry, RequestKind } from '../src/observability/metrics.js';
export type { ModuleService, ModuleZip, RevInfo } from '../src/service/module-service.js';
export type { CacheOptions } from '../src/service/options.js';
export { CACHE_DEFAULTS } from '../src/service/options.js';
export type { ProjectServices, ProjectServicesOptions, ServedProject } from '../src/service/project-services.js';
// Module services, to share caches between routers or to warm them.
export { createProjectServices } from '../src/service/project-services.js';
export type {
  Authenticate,
  CanRead,
  CredentialSource,
  Credentials,
  Principal,
  Project,
  ProjectStore,
  TokenStore,
  Visibility,
} from '../src/service/stores.js';
export type { WarmProgress } from '../src/service/warm.js';
export type { DownloadEvent, OnDownload } from './download-audit.js';
// Mounted: the router, its options and the hook contract a host implements.
export { createGoProxyRouter, GO_PROXY_BASE, GO_PROXY_REFRESH_ROUTE, GO_PROXY_ROUTES, GO_PROXY_WARM_ROUTE } from './go-proxy.js';
export type { GoProxyRouterOptions } from './go-proxy-options.js';
export type { AppOptions, RunningServer, StartOptions } from './server.js';
// Standalone: the config file, the config-backed stores and the server.
export { createApp, startServer } from './server.js';
