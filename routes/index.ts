/**
 * gitlab-go-proxy: GitLab's per-project Go module proxy, served straight from git repositories.
 * Mount `createGoProxyRouter` in an Express 5 app, or run `startServer` with a config file.
 */
export { createGoProxyRouter, GO_PROXY_BASE, GO_PROXY_ROUTES } from './go-proxy.js';
export type { GoProxyRouterOptions } from './go-proxy.js';
export { createApp, startServer } from './server.js';
export type { AppOptions, RunningServer, StartOptions } from './server.js';
export { loadServerConfig, parseServerConfig, ServerConfig } from '../src/config.js';
export type { ParseConfigOptions, ProjectConfig, TokenConfig, UserConfig } from '../src/config.js';
export {
  createConfigProjectStore,
  createConfigTokenStore,
  createPersonalAccessToken,
  tokenSha256,
} from '../src/service/stores.js';
export type {
  Authenticate,
  CanRead,
  ConfigPrincipal,
  ConfigProjectStore,
  ConfigTokenStore,
  ConfigTokenStoreOptions,
  CredentialSource,
  Credentials,
  Principal,
  Project,
  ProjectStore,
  TokenStore,
  Visibility,
} from '../src/service/stores.js';
export { createProjectServices } from '../src/service/project-services.js';
export type { CacheOptions, ProjectServices, ServedProject } from '../src/service/project-services.js';
export type { ModuleService, ModuleZip, RevInfo } from '../src/service/module-service.js';
export { ConfigError, InvalidRequestError, NotFoundError, ProxyError } from '../src/errors.js';
export type { ErrorKind } from '../src/errors.js';
export type { Logger } from '../src/logger.js';
