import type { ServedProject } from './project-services.js';

/**
 * The hook contract: what a host (or the config file, see src/config-stores.ts) provides so the
 * proxy can find projects and check credentials.
 */

/** GitLab's three visibility levels. */
export const VISIBILITIES = ['public', 'internal', 'private'] as const;

/** Who may read a project without being a member: GitLab's three visibility levels. */
export type Visibility = (typeof VISIBILITIES)[number];

/** A project as the proxy sees it. */
export interface Project extends ServedProject {
  /** public: anyone; internal: any valid token; private: principals `canRead` accepts. */
  visibility: Visibility;
}

/** Finds projects for `/api/v4/projects/:id`. */
export interface ProjectStore {
  /**
   * The project with this numeric id ("42") or full path ("group/sub/project"), or null.
   * Full paths should match case-insensitively, as GitLab's routes do.
   */
  findProject(idOrFullPath: string): Project | null | Promise<Project | null>;
}

/**
 * Where presented credentials came from: `private-token` is the `PRIVATE-TOKEN` header or the
 * `private_token` query parameter, `job-token` the `JOB-TOKEN` header or the `job_token` parameter.
 */
export type CredentialSource = 'basic' | 'private-token' | 'bearer' | 'job-token';

/** Credentials as presented; for Basic auth, the password (the username is ignored, as GitLab does). */
export interface Credentials {
  token: string;
  source: CredentialSource;
  /** Basic auth's username: a deploy token's username must match it. */
  username?: string;
}

/** What `authenticate` returns; the proxy itself only reads the scopes (`api` or `read_api` needed). */
export interface Principal {
  scopes: readonly string[];
}

/** Credentials → principal, or null when they are unknown, expired or revoked. May be async. */
export type Authenticate<P extends Principal = Principal> = (credentials: Credentials) => P | null | Promise<P | null>;

/** Whether the principal may read this private project. May be async. */
export type CanRead<P extends Principal = Principal> = (principal: P, project: Project) => boolean | Promise<boolean>;

/** The two token hooks together, as the config-backed store provides them. */
export interface TokenStore<P extends Principal = Principal> {
  authenticate: Authenticate<P>;
  canRead: CanRead<P>;
}
