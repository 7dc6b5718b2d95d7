/**
 * Issue 14, end to end with the real `go` command: a project whose repository lives on a git host
 * (a real `git http-backend` behind basic auth) is served from a mirror the proxy clones itself.
 * Hashes are compared with `go` reading the very same repository directly.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BuiltRepo, createFixtureWorld, type FixtureWorld } from '../helpers/fixtures.js';
import { type GitHttpServer, startGitHttpServer } from '../helpers/git-http-backend.js';
import { createSelfSignedCert, diffDownloads, GoClient, type GoMode, goSkipReason, writeNetrc } from '../helpers/go-client.js';
import { httpRequest, type ProxyServer, startProxy } from '../helpers/proxy-process.js';

const skip = await goSkipReason();

const TOKEN = `glpat-${randomBytes(12).toString('hex')}`;
const API_TOKEN = `glpat-${randomBytes(12).toString('hex')}`;
const UPSTREAM_PASSWORD = `upstream-${randomBytes(12).toString('hex')}`;
const WRONG_PASSWORD = `wrong-${randomBytes(12).toString('hex')}`;
const REFRESH_SECONDS = 1;

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('mirrored project: upstream fetched over smart HTTP with isomorphic-git, served to the real go (issue 14)', {
  skip: skip ?? false,
}, () => {
  let world: FixtureWorld;
  let upstreamServer: GitHttpServer;
  let server: ProxyServer;
  let badServer: ProxyServer;
  let go: GoClient;
  let repo: BuiltRepo;
  let mode: GoMode;
  let badMode: GoMode;
  let mirrorDir: string;
  let certFile: string;

  before(async () => {
    world = await createFixtureWorld('goproxy-mirror-');
    repo = await world.build({
      name: 'mirrored',
      commits: [
        {
          date: '2023-01-01T00:00:00Z',
          tags: ['v1.0.0'],
          tree: { 'go.mod': 'module github.com/testorg/mirrored\n\ngo 1.16\n', 'm.go': 'package mirrored\n', LICENSE: 'MIT\n' },
        },
        {
          date: '2023-02-01T00:00:00Z',
          tags: [{ name: 'v1.1.0', date: '2023-02-01T00:00:00Z', message: 'release\n' }],
          tree: { 'go.mod': 'module github.com/testorg/mirrored\n\ngo 1.16\n', 'm.go': 'package mirrored // 1.1\n', LICENSE: 'MIT\n' },
        },
      ],
    });
    upstreamServer = await startGitHttpServer({ root: dirname(repo.gitdir), auth: { username: 'proxy', password: UPSTREAM_PASSWORD } });
    const url = `${upstreamServer.url}/${basename(repo.gitdir)}`;
    await writeFile(join(world.root, 'upstream-password'), `${UPSTREAM_PASSWORD}\n`);
    await writeFile(join(world.root, 'wrong-password'), `${WRONG_PASSWORD}\n`);
    const cert = await createSelfSignedCert(join(world.root, 'tls'));
    certFile = cert.certFile;
    mirrorDir = join(world.root, 'mirrors', 'mirrored.git');
    const project = (repository: string, passwordFile: string) => ({
      id: 7,
      path: 'testorg/mirrored',
      repository,
      visibility: 'private' as const,
      upstream: { url, username: 'proxy', passwordFile, refreshSeconds: REFRESH_SECONDS },
    });
    const users = [
      {
        username: 'tester',
        projects: [7],
        tokens: [
          { token: TOKEN, scopes: ['read_api'] },
          { token: API_TOKEN, scopes: ['api'] },
        ],
      },
    ];
    server = await startProxy({
      dir: join(world.root, 'server'),
      tls: { cert: cert.certFile, key: cert.keyFile },
      projects: [project(mirrorDir, join(world.root, 'upstream-password'))],
      users,
    });
    badServer = await startProxy({
      dir: join(world.root, 'bad-server'),
      tls: { cert: cert.certFile, key: cert.keyFile },
      projects: [project(join(world.root, 'mirrors', 'bad.git'), join(world.root, 'wrong-password'))],
      users,
    });
    go = new GoClient({ world, certFile: cert.certFile });
    const netrc = (port: number, name: string) =>
      writeNetrc(join(world.root, name), [{ host: '127.0.0.1', port, login: 'x', password: TOKEN }]);
    mode = { goproxy: server.goproxy(7), netrc: await netrc(server.port, 'netrc'), label: 'proxy' };
    badMode = { goproxy: badServer.goproxy(7), netrc: await netrc(badServer.port, 'netrc-bad'), label: 'bad proxy' };
  });

  after(async () => {
    await server?.stop();
    await badServer?.stop();
    await upstreamServer?.close();
    await world?.dispose();
  });

  it('the mirror is cloned at startup, and go mod download equals direct mode', async () => {
    assert.ok(existsSync(join(mirrorDir, 'packed-refs')), 'the mirror was not created');
    for (const version of ['v1.0.0', 'v1.1.0']) {
      const { direct, proxy } = await go.compareWithDirect(`${repo.modulePath}@${version}`, mode);
      assert.ok(direct.ok, direct.Error);
      assert.ok(proxy.ok, `${proxy.Error}\n${server.output().slice(-3000)}`);
      assert.deepEqual(diffDownloads(direct, proxy), []);
    }
  });

  it('a tag pushed upstream appears in go list -m -versions once refreshSeconds have passed, without a webhook', async () => {
    execFileSync('git', ['--git-dir', repo.gitdir, 'tag', 'v1.2.0', 'v1.1.0^{commit}']);
    await eventually('v1.2.0 in go list -m -versions', async () => {
      const listed = await go.listVersions(repo.modulePath, mode);
      return listed.ok && listed.versions.includes('v1.2.0');
    });
    const { direct, proxy } = await go.compareWithDirect(`${repo.modulePath}@v1.2.0`, mode);
    assert.ok(proxy.ok, proxy.Error);
    assert.deepEqual(diffDownloads(direct, proxy), []);
  });

  it('a version tagged upstream is found by its exact name at once (one refresh before the 404)', async () => {
    execFileSync('git', ['--git-dir', repo.gitdir, 'tag', 'v1.3.0', 'v1.1.0^{commit}']);
    const proxy = await go.modDownload(`${repo.modulePath}@v1.3.0`, mode);
    assert.ok(proxy.ok, proxy.Error);
    assert.equal(proxy.Version, 'v1.3.0');
  });

  it('POST …/-/refresh with an api token fetches the mirror at once (202); a read_api token gets 404 and fetches nothing', async () => {
    execFileSync('git', ['--git-dir', repo.gitdir, 'tag', 'v1.4.0', 'v1.1.0^{commit}']);
    const post = (token: string) =>
      httpRequest(`${server.goproxy(7)}/-/refresh`, { method: 'POST', headers: { 'PRIVATE-TOKEN': token }, ca: readFileSync(certFile) });
    const hasTag = () => {
      try {
        execFileSync('git', ['--git-dir', mirrorDir, 'rev-parse', '--verify', '-q', 'refs/tags/v1.4.0'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    };
    const refused = await post(TOKEN);
    assert.equal(refused.status, 404);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(hasTag(), false, 'a refused refresh fetched');
    const accepted = await post(API_TOKEN);
    assert.equal(accepted.status, 202);
    assert.deepEqual(JSON.parse(accepted.text), { status: 'started' });
    // No go request in between: only the refresh call can have fetched the tag.
    await eventually('v1.4.0 in the mirror', async () => hasTag());
  });

  it('with the upstream stopped the proxy still serves what it has, and logs a warning', async () => {
    await upstreamServer.stop();
    try {
      await new Promise((r) => setTimeout(r, REFRESH_SECONDS * 1000 + 100));
      const listed = await go.listVersions(repo.modulePath, mode);
      assert.ok(listed.ok, listed.error);
      assert.deepEqual(listed.versions, ['v1.0.0', 'v1.1.0', 'v1.2.0', 'v1.3.0', 'v1.4.0']);
      const proxy = await go.modDownload(`${repo.modulePath}@v1.0.0`, mode);
      assert.ok(proxy.ok, proxy.Error);
      await eventually('the unreachable warning', async () => /"reason":"unreachable"/.test(server.output()));
    } finally {
      await upstreamServer.start();
    }
  });

  it('wrong upstream credentials: a clear log line naming the project, no secret or repository path in any log', async () => {
    const proxy = await go.modDownload(`${repo.modulePath}@v1.0.0`, badMode);
    assert.equal(proxy.ok, false);
    const line = badServer
      .output()
      .split('\n')
      .find((l) => l.includes('"reason":"credentials"'));
    assert.ok(line, `no credentials failure logged:\n${badServer.output().slice(-3000)}`);
    assert.match(line, /"project":7/);
    assert.match(line, /refused the credentials \(HTTP 401\)/);
    for (const s of [server, badServer])
      s.assertLogsClean([
        WRONG_PASSWORD,
        UPSTREAM_PASSWORD,
        TOKEN,
        API_TOKEN,
        `${upstreamServer.url}/${basename(repo.gitdir)}`,
        repo.gitdir,
      ]);
  });
});
