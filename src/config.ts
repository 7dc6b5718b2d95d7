import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { UpstreamConfigSchema } from './mirror/upstream-options.js';
import { MonitoringConfigSchema } from './monitoring-config.js';
import { ServerLimitsSchema, TrustProxySchema } from './server-limits-config.js';
import { type CacheOptions, CacheOptionsSchema, ModulePrefix } from './service/options.js';
import { VISIBILITIES } from './service/stores.js';
import { parseOrThrow } from './support/zod-errors.js';
import { checkPath } from './xmod/module-path.js';

/**
 * The standalone server's config file, checked once at startup with strict objects: an unknown
 * key is an error (it is almost always a typo), and every message names the file and the key.
 */

/** A project's full path, "group/sub/project": two or more GitLab path segments. */
const ProjectFullPath = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)+$/, 'expected a full path such as "group/sub/project"');

const Visibility = z.enum(VISIBILITIES);

/**
 * GitLab's personal access token scopes. A closed list, so that "read-api" is caught at startup
 * instead of turning into a 404 for every request made with that token.
 */
const TokenScope = z.enum([
  'api',
  'read_api',
  'read_user',
  'read_repository',
  'write_repository',
  'read_registry',
  'write_registry',
  'read_virtual_registry',
  'write_virtual_registry',
  'create_runner',
  'manage_runner',
  'k8s_proxy',
  'ai_features',
  'sudo',
  'admin_mode',
  'self_rotate',
]);

/**
 * A date ("2027-01-01", midnight UTC, as GitLab's token expiry dates) or a date-time with offset.
 * YAML 1.1 readers hand us a Date already, so that is accepted too.
 */
const Instant = z
  .union([z.date(), z.iso.date(), z.iso.datetime({ offset: true })], {
    error: 'expected a date such as 2027-01-01 or a date-time such as 2027-01-01T00:00:00Z',
  })
  .transform((value) => (value instanceof Date ? value : new Date(value.length === 10 ? `${value}T00:00:00Z` : value)));

const TokenConfigSchema = z.strictObject({
  /** SHA-256 digest of the token, 64 hex digits; the token itself is never stored. */
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, "expected the 64 hex digits of the token's SHA-256 digest")
    .transform((hex) => hex.toLowerCase()),
  /** The token's scopes; the proxy needs `api` or `read_api`. */
  scopes: z.array(TokenScope).min(1),
  /** The token stops working at this instant (a date means midnight UTC). Defaults to never. */
  expiresAt: Instant.optional(),
  /** A revoked token fails like an unknown one. Defaults to false. */
  revoked: z.boolean().default(false),
});
export type TokenConfig = z.infer<typeof TokenConfigSchema>;

/** GitLab's personal access token scopes, for the CLI's `token create --scopes`. */
export const TOKEN_SCOPES: readonly string[] = TokenScope.options;

const UserConfigSchema = z.strictObject({
  username: z.string().min(1),
  /** Projects (numeric ids or full paths) this user may read when they are private. Defaults to none. */
  projects: z.array(z.union([z.number().int().positive(), ProjectFullPath])).default([]),
  /** Personal access tokens of this user. Defaults to none. */
  tokens: z.array(TokenConfigSchema).default([]),
});
export type UserConfig = z.infer<typeof UserConfigSchema>;

/** A group's full path, "group" or "group/sub": one or more GitLab path segments. */
const GroupFullPath = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$/, 'expected a group full path such as "group" or "group/sub"');

const GroupConfigSchema = z.strictObject({
  /** GitLab's numeric group id, as used in `/api/v4/groups/:id`. */
  id: z.number().int().positive(),
  /** The group's full path; its projects are those whose path starts with it. */
  path: GroupFullPath,
});
export type GroupConfig = z.infer<typeof GroupConfigSchema>;

/** GitLab's deploy token scopes; the proxy needs `read_package_registry`. */
const DeployTokenScope = z.enum([
  'read_repository',
  'read_registry',
  'write_registry',
  'read_package_registry',
  'write_package_registry',
  'read_virtual_registry',
  'write_virtual_registry',
]);

const DeployTokenConfigSchema = z.strictObject({
  /** The deploy token's username: the `login` of its `.netrc` line. */
  username: z.string().min(1),
  /** SHA-256 digest of the token, 64 hex digits. */
  sha256: TokenConfigSchema.shape.sha256,
  scopes: z.array(DeployTokenScope).min(1),
  /** Projects (numeric ids or full paths) the token reads. Defaults to none. */
  projects: z.array(z.union([z.number().int().positive(), ProjectFullPath])).default([]),
  /** Groups (full paths) whose projects, subgroups included, the token reads. Defaults to none. */
  groups: z.array(GroupFullPath).default([]),
  expiresAt: Instant.optional(),
  revoked: z.boolean().default(false),
});
export type DeployTokenConfig = z.infer<typeof DeployTokenConfigSchema>;

const ProjectConfigSchema = z.strictObject({
  /** GitLab's numeric project id, as used in `/api/v4/projects/:id`. */
  id: z.number().int().positive(),
  /** Full path; the module path is `<modulePrefix>/<path>`. Looked up case-insensitively. */
  path: ProjectFullPath,
  /** The project's git repository (bare, or a work tree); relative to the config file's folder. */
  repository: z.string().min(1),
  /** Who may read it: public (anyone), internal (any valid token), private (its users). */
  visibility: Visibility,
  /**
   * The module path of the repository root, replacing `<modulePrefix>/<path>`: a vanity path
   * ("go.example.org/lib") or a gopkg.in-style one ("gopkg.in/yaml.v3"). Defaults to `<modulePrefix>/<path>`.
   */
  modulePath: z
    .string()
    .refine((value) => checkPath(value) === null, {
      error: (issue) => `not a valid module path: ${checkPath(String(issue.input))?.message}`,
    })
    .optional(),
  /** A repository on a git host: `repository` is then a bare mirror of it, created when missing (src/mirror/upstream-options.ts). */
  upstream: UpstreamConfigSchema.optional(),
});
export type ProjectConfig = z.infer<typeof ProjectConfigSchema>;

const TlsConfigSchema = z.strictObject({
  /** PEM certificate chain (relative to the config file's folder). */
  cert: z.string().min(1),
  /** PEM private key (relative to the config file's folder). */
  key: z.string().min(1),
});

const ServerSectionSchema = z.strictObject({
  /** Address to listen on. Defaults to 127.0.0.1: loopback unless asked otherwise. */
  host: z.string().min(1).default('127.0.0.1'),
  /** Port to listen on; 0 picks a free one. Defaults to 8080. */
  port: z.number().int().min(0).max(65535).default(8080),
  /** Serve HTTPS with this certificate. Defaults to plain HTTP (go sends .netrc credentials only over HTTPS). */
  tls: TlsConfigSchema.optional(),
  /** The public base URL ("https://go.example.com") in go-import tags and client-setup. Defaults to the request's own. */
  externalUrl: z
    .url({ protocol: /^https?$/, error: 'expected an http(s) URL such as "https://gitlab.example.com"' })
    .transform((url) => url.replace(/\/+$/, ''))
    .optional(),
  /** The go-import tag `?go-get=1` answers: `mod` (through this proxy) or `git` (`<externalUrl>/<path>.git`). Defaults to mod. */
  goImport: z.enum(['mod', 'git']).default('mod'),
  /** Which `X-Forwarded-For` entries name the client (express's `trust proxy`). Defaults to false: the socket's address. */
  trustProxy: TrustProxySchema,
  /** Timeouts, connection caps, header size and failed-authentication limiting (src/server-limits-config.ts). */
  limits: ServerLimitsSchema.prefault({}),
});

/** The file's cache section: as CacheOptions, with `dir: false` to say "no disk cache". */
const ServerCacheSchema = CacheOptionsSchema.extend({
  dir: z.union([z.string().min(1), z.literal(false)], { error: 'expected a folder, or false for no disk cache' }).optional(),
});

const ServerConfigSchema = z
  .strictObject({
    /** Where to listen. Defaults to 127.0.0.1:8080 over HTTP. */
    server: ServerSectionSchema.prefault({}),
    /** GitLab's host part of module paths. */
    modulePrefix: ModulePrefix,
    /** The projects served. Defaults to none. */
    projects: z.array(ProjectConfigSchema).default([]),
    /** Users and their tokens. Defaults to none (only public projects can be read). */
    users: z.array(UserConfigSchema).default([]),
    /** Numeric ids of groups for `/api/v4/groups/:id` (full paths work without). Defaults to none. */
    groups: z.array(GroupConfigSchema).default([]),
    /** Deploy tokens, project- or group-scoped. Defaults to none. */
    deployTokens: z.array(DeployTokenConfigSchema).default([]),
    /**
     * Module cache and memory bounds (see CacheOptions). `cache.dir` defaults to `.cache` beside
     * the config file, so pins survive restarts and zips are built once; `dir: false` keeps
     * everything in memory.
     */
    cache: ServerCacheSchema.prefault({}),
    /** Who may read /metrics and the health endpoints, and the drain time on shutdown (src/monitoring-config.ts). */
    monitoring: MonitoringConfigSchema.prefault({}),
  })
  .superRefine(function checkReferences(config, ctx) {
    const ids = new Set<number>();
    const paths = new Set<string>();
    config.projects.forEach((project, index) => {
      if (ids.has(project.id)) {
        ctx.addIssue({ code: 'custom', path: ['projects', index, 'id'], message: `duplicate project id ${project.id}` });
      }
      const key = project.path.toLowerCase();
      if (paths.has(key)) {
        ctx.addIssue({ code: 'custom', path: ['projects', index, 'path'], message: 'duplicate project path (paths are case-insensitive)' });
      }
      ids.add(project.id);
      paths.add(key);
    });
    checkClientReferences(config, ctx);
    const digests = new Set<string>();
    config.users.forEach((user, u) => {
      user.projects.forEach((ref, p) => {
        const known = typeof ref === 'number' ? ids.has(ref) : paths.has(ref.toLowerCase());
        if (!known) ctx.addIssue({ code: 'custom', path: ['users', u, 'projects', p], message: 'no such project in "projects"' });
      });
      user.tokens.forEach((token, t) => {
        if (digests.has(token.sha256)) {
          ctx.addIssue({ code: 'custom', path: ['users', u, 'tokens', t, 'sha256'], message: 'the same token digest appears twice' });
        }
        digests.add(token.sha256);
      });
    });
  });
/** Module roots and group ids are unique; deploy tokens name known projects and do not reuse a digest. */
function checkClientReferences(config: z.output<typeof ServerConfigSchema>, ctx: z.RefinementCtx): void {
  const roots = new Set<string>();
  config.projects.forEach((project, index) => {
    const root = project.modulePath ?? `${config.modulePrefix}/${project.path}`;
    if (roots.has(root)) ctx.addIssue({ code: 'custom', path: ['projects', index, 'modulePath'], message: `two projects serve ${root}` });
    roots.add(root);
  });
  const groupIds = new Set<number>();
  config.groups.forEach((group, index) => {
    if (groupIds.has(group.id)) ctx.addIssue({ code: 'custom', path: ['groups', index, 'id'], message: `duplicate group id ${group.id}` });
    groupIds.add(group.id);
  });
  const ids = new Set(config.projects.map((p) => p.id));
  const paths = new Set(config.projects.map((p) => p.path.toLowerCase()));
  const digests = new Set(config.users.flatMap((u) => u.tokens.map((t) => t.sha256)));
  config.deployTokens.forEach((token, t) => {
    token.projects.forEach((ref, p) => {
      const known = typeof ref === 'number' ? ids.has(ref) : paths.has(ref.toLowerCase());
      if (!known) ctx.addIssue({ code: 'custom', path: ['deployTokens', t, 'projects', p], message: 'no such project in "projects"' });
    });
    if (digests.has(token.sha256)) {
      ctx.addIssue({ code: 'custom', path: ['deployTokens', t, 'sha256'], message: 'the same token digest appears twice' });
    }
    digests.add(token.sha256);
  });
}

/** The folder of the standalone server's disk cache when the config names none, beside the config file. */
export const DEFAULT_CACHE_DIR = '.cache';

function serverCache(cache: z.output<typeof ServerCacheSchema>, resolve: (p: string) => string): CacheOptions {
  const { dir, ...rest } = cache;
  if (dir === false) return rest;
  return { ...rest, dir: resolve(dir ?? DEFAULT_CACHE_DIR) };
}

declare const checked: unique symbol;

/**
 * A config that `parseServerConfig` or `loadServerConfig` checked and whose relative paths it
 * resolved; `createApp` and `startServer` take only this, so no hand-built object skips the checks.
 */
export type ServerConfig = Omit<z.output<typeof ServerConfigSchema>, 'cache'> & { cache: CacheOptions; readonly [checked]: true };

export interface ParseConfigOptions {
  /** Named in error messages. */
  file: string;
  /** Relative paths resolve against this folder. */
  baseDir: string;
}

/** Checks a config object and resolves its relative paths; throws ConfigError naming the key and the file. */
export function parseServerConfig(raw: unknown, { file, baseDir }: ParseConfigOptions): ServerConfig {
  const config = parseOrThrow(ServerConfigSchema, raw, file);
  const resolve = (p: string): string => path.resolve(baseDir, p);
  return {
    ...config,
    server: {
      ...config.server,
      ...(config.server.tls && { tls: { cert: resolve(config.server.tls.cert), key: resolve(config.server.tls.key) } }),
    },
    projects: config.projects.map((project) => ({
      ...project,
      repository: resolve(project.repository),
      ...(project.upstream?.passwordFile !== undefined && {
        upstream: { ...project.upstream, passwordFile: resolve(project.upstream.passwordFile) },
      }),
    })),
    cache: serverCache(config.cache, resolve),
  } as ServerConfig;
}

/** Reads a YAML (.yaml, .yml) or JSON (.json) config file; relative paths resolve against its folder. */
export async function loadServerConfig(file: string): Promise<ServerConfig> {
  const extension = path.extname(file).toLowerCase();
  if (!['.yaml', '.yml', '.json'].includes(extension)) {
    throw new ConfigError(`${file}: the config file must end in .yaml, .yml or .json`);
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read the config file (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = extension === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${file}: not valid ${extension === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`, { cause: err });
  }
  return parseServerConfig(raw, { file, baseDir: path.dirname(path.resolve(file)) });
}
