import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DeployTokenConfig, ProjectConfig, UserConfig } from './config.js';
import { upstreamFromConfig } from './mirror/upstream-options.js';
import type { Credentials, Principal, Project, ProjectStore, TokenStore } from './service/stores.js';

/** The hook contract implemented over the config file's `projects` and `users`. */

/** A user from the config file, once one of their tokens matched. */
export interface ConfigPrincipal extends Principal {
  username: string;
  /** Set for a deploy token: its principal reads the token's projects and groups, not a user's. */
  deployToken?: true;
}

/** The config-backed stores answer synchronously. */
export interface ConfigProjectStore extends ProjectStore {
  findProject(idOrFullPath: string): Project | null;
}

export interface ConfigTokenStore extends TokenStore<ConfigPrincipal> {
  authenticate(credentials: Credentials): ConfigPrincipal | null;
  canRead(principal: ConfigPrincipal, project: Project): boolean;
}

/** Projects from the config file: numeric id, or full path compared case-insensitively. */
export function createConfigProjectStore(projects: readonly ProjectConfig[]): ConfigProjectStore {
  const byId = new Map<string, Project>();
  const byPath = new Map<string, Project>();
  for (const entry of projects) {
    const project: Project = {
      id: entry.id,
      fullPath: entry.path,
      visibility: entry.visibility,
      gitdir: entry.repository,
      ...(entry.modulePath !== undefined && { modulePath: entry.modulePath }),
      ...(entry.upstream && { upstream: upstreamFromConfig(entry.upstream, (p) => p, `projects[${entry.id}].upstream`) }),
    };
    byId.set(String(entry.id), project);
    byPath.set(entry.path.toLowerCase(), project);
  }
  return {
    findProject(idOrFullPath) {
      // Same split as GitLab's find_project: digits are ids, anything with a slash is a path.
      if (/^\d+$/.test(idOrFullPath)) return byId.get(String(Number(idOrFullPath))) ?? null;
      if (idOrFullPath.includes('/')) return byPath.get(idOrFullPath.toLowerCase()) ?? null;
      return null;
    },
  };
}

export interface ConfigTokenStoreOptions {
  /** The clock used for `expiresAt`. Defaults to the system clock. */
  now?: () => Date;
  /** Deploy tokens (config `deployTokens`). Defaults to none. */
  deployTokens?: readonly DeployTokenConfig[];
}

interface TokenEntry {
  digest: Buffer;
  user: UserConfig;
  /** The deploy token this entry is, with `user` standing for its reach. */
  deploy?: DeployTokenConfig;
  expiresAt: Date | undefined;
  revoked: boolean;
  scopes: readonly string[];
}

/**
 * Tokens from the config file, stored as SHA-256 digests. Every lookup compares the presented
 * token's digest with every entry in constant time, so neither the answer time nor an early exit
 * tells how close a guess was or how many tokens there are before the match.
 */
export function createConfigTokenStore(
  users: readonly UserConfig[],
  { now = () => new Date(), deployTokens = [] }: ConfigTokenStoreOptions = {},
): ConfigTokenStore {
  // A deploy token reads like a user who is a member of its projects; its groups are checked apart.
  const deployUsers = deployTokens.map((deploy) => ({
    deploy,
    user: { username: deploy.username, projects: deploy.projects, tokens: [] } as UserConfig,
  }));
  const entries: TokenEntry[] = users.flatMap((user) =>
    user.tokens.map((token) => ({
      digest: Buffer.from(token.sha256, 'hex'),
      user,
      expiresAt: token.expiresAt,
      revoked: token.revoked,
      scopes: token.scopes,
    })),
  );
  for (const { deploy, user } of deployUsers) {
    entries.push({
      digest: Buffer.from(deploy.sha256, 'hex'),
      user,
      deploy,
      expiresAt: deploy.expiresAt,
      revoked: deploy.revoked,
      scopes: deploy.scopes,
    });
  }
  const members = new Map<UserConfig, { ids: Set<string>; paths: Set<string> }>();
  for (const user of [...users, ...deployUsers.map((d) => d.user)]) {
    members.set(user, {
      ids: new Set(user.projects.filter((p) => typeof p === 'number').map(String)),
      paths: new Set(user.projects.filter((p) => typeof p === 'string').map((p) => p.toLowerCase())),
    });
  }
  const usernames = new WeakMap<ConfigPrincipal, UserConfig>();
  const deployGroups = new Map<UserConfig, readonly string[]>(deployUsers.map((d) => [d.user, d.deploy.groups]));

  return {
    authenticate({ token, username, source }) {
      // The config file has no CI jobs: a job token can only come from a host's hook.
      if (source === 'job-token') return null;
      const digest = createHash('sha256').update(token, 'utf8').digest();
      let match: TokenEntry | undefined;
      for (const entry of entries) {
        if (timingSafeEqual(digest, entry.digest) && !match) match = entry;
      }
      if (!match || match.revoked) return null;
      if (match.expiresAt && now().getTime() >= match.expiresAt.getTime()) return null;
      // GitLab matches a deploy token's username too; a header without one (PRIVATE-TOKEN) is refused.
      if (match.deploy && username !== match.deploy.username) return null;
      const principal: ConfigPrincipal = {
        username: match.user.username,
        scopes: match.scopes,
        ...(match.deploy && { deployToken: true as const }),
      };
      usernames.set(principal, match.user);
      return principal;
    },
    canRead(principal, project) {
      const user = usernames.get(principal);
      const membership = user && members.get(user);
      if (!membership) return false;
      if (membership.ids.has(String(project.id)) || membership.paths.has(project.fullPath.toLowerCase())) return true;
      const groups = deployGroups.get(user) ?? [];
      const lower = project.fullPath.toLowerCase();
      return groups.some((group) => lower.startsWith(`${group.toLowerCase()}/`));
    },
  };
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A new personal access token in GitLab's format: `glpat-` and 20 random base62 characters (~119 bits). */
export function createPersonalAccessToken(): string {
  let out = 'glpat-';
  while (out.length < 26) {
    for (const byte of randomBytes(32)) {
      // 248 = 4 × 62: dropping 248–255 keeps every character equally likely.
      if (byte < 248 && out.length < 26) out += BASE62[byte % 62];
    }
  }
  return out;
}

/** The SHA-256 hex digest that a config file stores instead of the token. */
export function tokenSha256(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
