import { createHash } from 'node:crypto';
import express, { type Express } from 'express';
import { createGoProxyRouter, type GoProxyRouterOptions, type Principal, type Project } from 'gitlab-go-proxy';

/**
 * Mounting the Go proxy in an existing Express 5 app. The host keeps its own projects and users;
 * the proxy asks for them through three hooks. README.md shows this file, and
 * test/http/mounting.test.ts compiles and runs it.
 */

/** The host app's own data; in a real app this is its database. */
export interface HostDatabase {
  projects: Project[];
  users: { username: string; tokenSha256: string; scopes: string[]; projectIds: number[] }[];
}

interface HostUser extends Principal {
  username: string;
  projectIds: number[];
}

/** The three hooks through which the proxy asks the host for projects and users. */
export function hostHooks(db: HostDatabase): Pick<GoProxyRouterOptions<HostUser>, 'projects' | 'authenticate' | 'canRead'> {
  return {
    projects: {
      // `:id` is a numeric id or a full path ("group/project"); full paths match case-insensitively.
      findProject: (idOrFullPath) =>
        db.projects.find((p) => String(p.id) === idOrFullPath || p.fullPath.toLowerCase() === idOrFullPath.toLowerCase()) ?? null,
    },
    // Store token digests, not tokens. Return null for unknown, expired or revoked tokens.
    authenticate: ({ token }) => {
      const digest = createHash('sha256').update(token).digest('hex');
      const user = db.users.find((u) => u.tokenSha256 === digest);
      return user ? { username: user.username, scopes: user.scopes, projectIds: user.projectIds } : null;
    },
    // Asked for private projects only: public ones are open to all, internal ones to any valid token.
    canRead: (user, project) => user.projectIds.includes(Number(project.id)),
  };
}

export function createHostApp(db: HostDatabase): Express {
  const app = express();
  app.get('/', (_req, res) => {
    res.send('the host app');
  });

  const goProxy = createGoProxyRouter<HostUser>({
    modulePrefix: 'gitlab.example.com',
    ...hostHooks(db),
    // No `cache` here, so zips are rebuilt per request and POST …/-/warm answers 409. In production
    // add `cache: { dir: '/var/cache/go-proxy' }`: zips and version pins then live on disk.
  });

  // At the root, the proxy answers under /api/v4/projects/:id/packages/go, as GitLab does …
  app.use(goProxy);
  // … and the same router under a prefix answers under /go-mirror/api/v4/projects/:id/packages/go.
  app.use('/go-mirror', goProxy);
  return app;
}
