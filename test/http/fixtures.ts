import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { tokenSha256 } from '../../src/config-stores.js';
import type { ModuleService } from '../../src/service/module-service.js';
import type { ProjectServices } from '../../src/service/project-services.js';

/** Fixtures for the HTTP tests: bare repositories made with the git CLI, in a temp dir. */

const run = promisify(execFile);

export interface FixtureCommit {
  files: Record<string, string>;
  /** ISO date used for both author and committer, so hashes and times are repeatable. */
  date: string;
  tag?: string;
  /** Makes the tag annotated. */
  annotated?: boolean;
}

/** The standard history: v1.0.0, v1.1.0 (annotated) and v1.2.0-rc.1, then one untagged commit on main. */
export function standardHistory(modulePath: string): FixtureCommit[] {
  const goMod = `module ${modulePath}\n\ngo 1.19\n`;
  const hello = 'package project\n\nfunc Hello() string { return "hello" }\n';
  return [
    { date: '2024-01-10T10:00:00+02:00', files: { 'go.mod': goMod, 'hello.go': hello }, tag: 'v1.0.0' },
    {
      date: '2024-02-10T10:00:00Z',
      files: { 'go.mod': goMod, 'hello.go': hello, 'greet.go': 'package project\n' },
      tag: 'v1.1.0',
      annotated: true,
    },
    {
      date: '2024-03-10T10:00:00Z',
      files: { 'go.mod': goMod, 'hello.go': hello, 'greet.go': 'package project\n\n// rc\n' },
      tag: 'v1.2.0-rc.1',
    },
    { date: '2024-04-10T10:00:00Z', files: { 'go.mod': goMod, 'hello.go': hello, 'greet.go': 'package project\n\n// main\n' } },
  ];
}

export async function makeTempDir(prefix = 'gitlab-go-proxy-http-'): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Builds a work tree with `history`, then a bare clone at `gitdir`. */
export async function makeBareRepository(gitdir: string, history: readonly FixtureCommit[]): Promise<void> {
  const work = `${gitdir}.work`;
  await mkdir(work, { recursive: true });
  const git = (args: string[], date?: string) =>
    run('git', args, {
      cwd: work,
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: work,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_AUTHOR_NAME: 'Fixture',
        GIT_AUTHOR_EMAIL: 'fixture@example.com',
        GIT_COMMITTER_NAME: 'Fixture',
        GIT_COMMITTER_EMAIL: 'fixture@example.com',
        ...(date && { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date }),
      },
    });
  await git(['init', '-q', '-b', 'main']);
  for (const commit of history) {
    await git(['rm', '-q', '-r', '--cached', '--ignore-unmatch', '.']);
    for (const [file, text] of Object.entries(commit.files)) {
      await mkdir(path.dirname(path.join(work, file)), { recursive: true });
      await writeFile(path.join(work, file), text);
      await git(['add', '--', file]);
    }
    await git(['commit', '-q', '-m', `commit ${commit.tag ?? commit.date}`], commit.date);
    if (commit.tag) await git(commit.annotated ? ['tag', '-a', '-m', commit.tag, commit.tag] : ['tag', commit.tag], commit.date);
  }
  await run('git', ['clone', '-q', '--bare', work, gitdir]);
  await rm(work, { recursive: true, force: true });
}

/** Tokens used by the HTTP tests, with the config entries that hold their digests. */
export const TOKENS = {
  alice: 'glpat-aliceValidToken00000',
  aliceApi: 'glpat-aliceApiScope000000',
  expired: 'glpat-aliceExpired0000000',
  revoked: 'glpat-aliceRevoked0000000',
  wrongScope: 'glpat-aliceWrongScope0000',
  bob: 'glpat-bobNoMembership0000',
  unknown: 'glpat-unknownToken0000000',
} as const;

export function usersConfig(privateProjectId: number): unknown[] {
  return [
    {
      username: 'alice',
      projects: [privateProjectId],
      tokens: [
        { sha256: tokenSha256(TOKENS.alice), scopes: ['read_api'], expiresAt: '2999-01-01' },
        { sha256: tokenSha256(TOKENS.aliceApi), scopes: ['api'] },
        { sha256: tokenSha256(TOKENS.expired), scopes: ['read_api'], expiresAt: '2020-01-01' },
        { sha256: tokenSha256(TOKENS.revoked), scopes: ['read_api'], revoked: true },
        { sha256: tokenSha256(TOKENS.wrongScope), scopes: ['read_repository', 'read_registry'] },
      ],
    },
    { username: 'bob', tokens: [{ sha256: tokenSha256(TOKENS.bob), scopes: ['read_api'] }] },
  ];
}

export type Scheme = 'basic' | 'private-token' | 'bearer';

export function credentialHeaders(scheme: Scheme, token: string): Record<string, string> {
  switch (scheme) {
    case 'basic':
      return { Authorization: `Basic ${Buffer.from(`anyone:${token}`).toString('base64')}` };
    case 'private-token':
      return { 'PRIVATE-TOKEN': token };
    case 'bearer':
      return { Authorization: `Bearer ${token}` };
  }
}

/** A ProjectServices around one scripted ModuleService, for tests of the router alone. */
export function scriptedServices(service: ModuleService, overrides: Partial<ProjectServices> = {}): ProjectServices {
  return {
    acquire: async () => ({ service, release: () => {} }),
    warm: async () => ({ total: 0, done: 0, built: 0, failed: 0, current: '' }),
    modules: async () => [],
    stats: () => ({ openServices: 0, openRepositories: 0, leases: 0, memoryBytes: 0 }),
    close: async () => {},
    ...overrides,
  };
}

/**
 * Writes a commit into a bare repository with `git commit-tree`, without a work tree: the tree of
 * `treeOf`, the given parents (none: a new root), the given date. Resolves its id.
 */
export async function commitTree(
  gitdir: string,
  options: { treeOf: string; parents: string[]; date?: string; message?: string },
): Promise<string> {
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 'Fixture',
    GIT_AUTHOR_EMAIL: 'fixture@example.com',
    GIT_COMMITTER_NAME: 'Fixture',
    GIT_COMMITTER_EMAIL: 'fixture@example.com',
    ...(options.date && { GIT_AUTHOR_DATE: options.date, GIT_COMMITTER_DATE: options.date }),
  };
  const tree = (await run('git', ['-C', gitdir, 'rev-parse', `${options.treeOf}^{tree}`])).stdout.trim();
  const parents = options.parents.flatMap((p) => ['-p', p]);
  return (await run('git', ['-C', gitdir, 'commit-tree', tree, ...parents, '-m', options.message ?? 'fixture'], { env })).stdout.trim();
}
