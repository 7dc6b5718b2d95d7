/**
 * Issue 2, end to end with the real `go` command: a private project over HTTPS (self-signed
 * certificate trusted through SSL_CERT_FILE) with a `.netrc` token, compared with what `go` computes
 * in direct mode (GOPROXY=direct) from the very same bare repository (go-modules.md §7).
 *
 * Also the credential rules of go-modules.md §2 / §6 cases 14–21 that involve our server, and the
 * product decisions on credentials (decisions.md): no credentials on a private project → 401
 * (and `go` must NOT fall back to `direct`), presented-but-invalid credentials → 404.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BuiltRepo, createFixtureWorld, type FixtureWorld } from '../helpers/fixtures.js';
import {
  createSelfSignedCert,
  DIRECT,
  type DownloadResult,
  diffDownloads,
  GoClient,
  type GoMode,
  goMinor,
  goSkipReason,
  writeNetrc,
} from '../helpers/go-client.js';
import { type ProxyServer, startProxy, startStubServer } from '../helpers/proxy-process.js';

const skip = await goSkipReason();

const PRIVATE_ID = 1;
const PUBLIC_ID = 2;
const TOKEN = `glpat-${randomBytes(12).toString('hex')}`;
const OUTSIDER_TOKEN = `glpat-${randomBytes(12).toString('hex')}`;
const UNKNOWN_TOKEN = `glpat-${randomBytes(12).toString('hex')}`;

function assertSameAsDirect(direct: DownloadResult, proxy: DownloadResult, server?: ProxyServer): void {
  const diffs = diffDownloads(direct, proxy);
  assert.deepEqual(diffs, [], `${proxy.query}: proxy differs from direct mode\n${diffs.join('\n')}${serverTail(server)}`);
}

function serverTail(server: ProxyServer | undefined): string {
  if (!server) return '';
  const out = server.output().trim().split('\n').slice(-15).join('\n');
  return out ? `\n--- last server output ---\n${out}` : '';
}

describe('real go client against the proxy over HTTPS (issue 2)', { skip: skip ?? false }, () => {
  let world: FixtureWorld;
  let server: ProxyServer;
  let go: GoClient;
  let priv: BuiltRepo;
  let pub: BuiltRepo;
  let netrc: string;
  let outsiderNetrc: string;
  let unknownNetrc: string;
  let viaNetrc: GoMode;

  before(async () => {
    world = await createFixtureWorld('goproxy-client-');
    priv = await world.build({
      name: 'client',
      objects: 'mixed',
      refsLayout: 'packed',
      commits: [
        {
          date: '2021-03-01T09:00:00+01:00',
          tags: ['v1.0.0'],
          tree: {
            'go.mod': 'module github.com/testorg/client\n\ngo 1.16\n',
            'client.go': 'package client\n\nconst Version = "1.0.0"\n',
            LICENSE: 'MIT\n',
          },
        },
        {
          date: '2021-03-02T09:00:00-05:00',
          authorDate: '2020-12-24T12:00:00+09:00',
          tags: [{ name: 'v1.1.0', date: '2030-01-01T00:00:00Z', message: 'release 1.1.0\n' }],
          tree: {
            'go.mod': 'module github.com/testorg/client\n\ngo 1.16\n',
            'client.go': 'package client\n\nconst Version = "1.1.0"\n',
            'internal/x/x.go': 'package x\n',
            LICENSE: 'MIT\n',
          },
        },
        {
          date: '2021-03-03T09:00:00Z',
          tags: ['v1.2.0-rc.1'],
          tree: {
            'go.mod': 'module github.com/testorg/client\n\ngo 1.16\n',
            'client.go': 'package client\n\nconst Version = "1.2.0-rc.1"\n',
            LICENSE: 'MIT\n',
          },
        },
        {
          date: '2021-03-04T09:00:00Z',
          tree: {
            'go.mod': 'module github.com/testorg/client\n\ngo 1.16\n',
            'client.go': 'package client\n\nconst Version = "dev"\n',
            LICENSE: 'MIT\n',
          },
        },
      ],
    });
    pub = await world.build({
      name: 'pub',
      objects: 'loose',
      removeConfig: true, // a bare repository without a config file must still be served
      commits: [
        { date: '2022-01-01T00:00:00Z', tags: ['v0.1.0'], tree: { 'go.mod': 'module github.com/testorg/pub\n', 'p.go': 'package pub\n' } },
        {
          date: '2022-02-01T00:00:00+03:00',
          tags: ['v0.2.0'],
          tree: { 'go.mod': 'module github.com/testorg/pub\n', 'p.go': 'package pub // 2\n' },
        },
      ],
    });
    const cert = await createSelfSignedCert(join(world.root, 'tls'));
    server = await startProxy({
      dir: join(world.root, 'server'),
      tls: { cert: cert.certFile, key: cert.keyFile },
      projects: [
        { id: PRIVATE_ID, path: priv.fullPath, repository: priv.gitdir, visibility: 'private' },
        { id: PUBLIC_ID, path: pub.fullPath, repository: pub.gitdir, visibility: 'public' },
      ],
      users: [
        { username: 'tester', projects: [PRIVATE_ID, PUBLIC_ID], tokens: [{ token: TOKEN, scopes: ['read_api'] }] },
        { username: 'outsider', projects: [PUBLIC_ID], tokens: [{ token: OUTSIDER_TOKEN, scopes: ['read_api'] }] },
      ],
    });
    go = new GoClient({ world, certFile: cert.certFile });
    const entry = (password: string) => [{ host: '127.0.0.1', port: server.port, login: 'x', password }];
    netrc = await writeNetrc(join(world.root, 'netrc-good'), entry(TOKEN));
    outsiderNetrc = await writeNetrc(join(world.root, 'netrc-outsider'), entry(OUTSIDER_TOKEN));
    unknownNetrc = await writeNetrc(join(world.root, 'netrc-unknown'), entry(UNKNOWN_TOKEN));
    viaNetrc = { goproxy: server.goproxy(PRIVATE_ID), netrc, label: 'proxy+netrc' };
  });

  after(async () => {
    await server?.stop();
    await world?.dispose();
  });

  for (const version of ['v1.0.0', 'v1.1.0', 'v1.2.0-rc.1']) {
    it(`go mod download -json client@${version} over HTTPS with .netrc equals direct mode`, async () => {
      const { direct, proxy } = await go.compareWithDirect(`${priv.modulePath}@${version}`, viaNetrc);
      assert.ok(direct.ok, `direct mode failed: ${direct.Error}`);
      assert.ok(proxy.ok, `proxy failed: ${proxy.Error}${serverTail(server)}`);
      assert.equal(proxy.Version, version);
      assertSameAsDirect(direct, proxy, server);
    });
  }

  it('.info Time is the committer time in UTC, not the author or annotated-tag date', async () => {
    const proxy = await go.modDownload(`${priv.modulePath}@v1.1.0`, viaNetrc);
    assert.ok(proxy.ok, proxy.Error);
    assert.equal(proxy.info?.Time, '2021-03-02T14:00:00Z');
  });

  it('go list -m -versions lists the same versions as direct mode', async () => {
    const [direct, proxy] = await Promise.all([go.listVersions(priv.modulePath, DIRECT), go.listVersions(priv.modulePath, viaNetrc)]);
    assert.ok(direct.ok, direct.error);
    assert.ok(proxy.ok, `${proxy.error}${serverTail(server)}`);
    assert.deepEqual(proxy.versions, direct.versions);
    assert.deepEqual(proxy.versions, ['v1.0.0', 'v1.1.0', 'v1.2.0-rc.1']);
  });

  it('go get client@latest in a scratch module picks v1.1.0 and writes the go.sum lines of direct mode', async () => {
    const [direct, proxy] = await Promise.all([
      go.goGet(`${priv.modulePath}@latest`, DIRECT),
      go.goGet(`${priv.modulePath}@latest`, viaNetrc),
    ]);
    assert.ok(direct.ok, direct.stderr);
    assert.ok(proxy.ok, `${proxy.stderr}${serverTail(server)}`);
    assert.equal(proxy.required, 'v1.1.0');
    assert.equal(proxy.required, direct.required);
    assert.deepEqual(proxy.goSum, direct.goSum);
    assert.equal(proxy.goSum.length, 2, `expected a zip and a go.mod line: ${proxy.goSum.join('\n')}`);
  });

  it('go get client@main resolves the branch to the same pseudo-version as direct mode', async () => {
    const [direct, proxy] = await Promise.all([go.goGet(`${priv.modulePath}@main`, DIRECT), go.goGet(`${priv.modulePath}@main`, viaNetrc)]);
    assert.ok(direct.ok, direct.stderr);
    assert.ok(proxy.ok, `${proxy.stderr}${serverTail(server)}`);
    assert.equal(direct.required, `v1.2.0-rc.1.0.20210304090000-${priv.short('c4')}`);
    assert.equal(proxy.required, direct.required);
    assert.deepEqual(proxy.goSum, direct.goSum);
  });

  it('without .netrc the error names 401 Unauthorized, and `,direct` does not fall back', async () => {
    const alone = await go.modDownload(`${priv.modulePath}@v1.0.0`, { goproxy: server.goproxy(PRIVATE_ID), netrc: null });
    assert.equal(alone.ok, false, 'a private project must not be served without credentials');
    assert.match(alone.Error ?? '', /401 Unauthorized/);
    // Direct mode alone would succeed, so a failure here proves there was no fallback.
    const withDirect = await go.modDownload(`${priv.modulePath}@v1.0.0`, {
      goproxy: `${server.goproxy(PRIVATE_ID)},direct`,
      netrc: null,
    });
    assert.equal(withDirect.ok, false, `go fell back to direct mode after the proxy's answer: ${withDirect.Version}`);
    assert.match(withDirect.Error ?? '', /401 Unauthorized/);
  });

  it('a 401 answer carries WWW-Authenticate: Basic realm="GitLab" and a text/plain body', async () => {
    const res = await server.request(`/api/v4/projects/${PRIVATE_ID}/packages/go/${priv.modulePath}/@v/list`);
    assert.equal(res.status, 401);
    assert.match(String(res.headers['www-authenticate'] ?? ''), /^Basic realm="GitLab"/);
    assert.match(String(res.headers['content-type'] ?? ''), /^text\/plain/);
  });

  it('with an unknown token the error names 404 Not Found', async () => {
    const r = await go.modDownload(`${priv.modulePath}@v1.0.0`, { goproxy: server.goproxy(PRIVATE_ID), netrc: unknownNetrc });
    assert.equal(r.ok, false);
    assert.match(r.Error ?? '', /404 Not Found/);
  });

  it('with a valid token of a user who may not read the project the error names 404 Not Found', async () => {
    const r = await go.modDownload(`${priv.modulePath}@v1.0.0`, { goproxy: server.goproxy(PRIVATE_ID), netrc: outsiderNetrc });
    assert.equal(r.ok, false);
    assert.match(r.Error ?? '', /404 Not Found/);
  });

  it('a public project works over HTTPS without any credentials, equal to direct mode', async () => {
    const mode: GoMode = { goproxy: server.goproxy(PUBLIC_ID), netrc: null, label: 'proxy-anonymous' };
    for (const version of ['v0.1.0', 'v0.2.0']) {
      const { direct, proxy } = await go.compareWithDirect(`${pub.modulePath}@${version}`, mode);
      assert.ok(proxy.ok, `${proxy.Error}${serverTail(server)}`);
      assertSameAsDirect(direct, proxy, server);
    }
    const list = await go.listVersions(pub.modulePath, mode);
    assert.deepEqual(list.versions, ['v0.1.0', 'v0.2.0']);
  });

  it('credentials in the HTTPS GOPROXY URL work without .netrc (spec §6 case 17)', async () => {
    const url = new URL(server.goproxy(PRIVATE_ID));
    url.username = 'x';
    url.password = TOKEN;
    const { direct, proxy } = await go.compareWithDirect(`${priv.modulePath}@v1.0.0`, { goproxy: url.href, netrc: null });
    assert.ok(proxy.ok, `${proxy.Error}${serverTail(server)}`);
    assertSameAsDirect(direct, proxy, server);
  });

  it('.netrc wins over wrong credentials in the URL before Go 1.24, the URL wins from 1.24 (spec §6 case 18)', async () => {
    const url = new URL(server.goproxy(PRIVATE_ID));
    url.username = 'x';
    url.password = UNKNOWN_TOKEN;
    const r = await go.modDownload(`${priv.modulePath}@v1.0.0`, { goproxy: url.href, netrc });
    if ((await goMinor()) >= 24) {
      // Go 1.24's auth layer uses a URL's own userinfo and consults .netrc only without it.
      assert.equal(r.ok, false);
      assert.match(r.Error ?? '', /404 Not Found/);
    } else {
      assert.ok(r.ok, `${r.Error}${serverTail(server)}`);
    }
  });

  it('without SSL_CERT_FILE the self-signed certificate is refused (spec §6 case 21)', async () => {
    const r = await go.modDownload(`${priv.modulePath}@v1.0.0`, { ...viaNetrc, certFile: null });
    assert.equal(r.ok, false);
    assert.match(r.Error ?? '', /x509: certificate signed by unknown authority/);
  });

  it('go sends no .netrc credentials to a plain-http proxy (spec §6 case 14)', async () => {
    const stub = await startStubServer((_req, res) => {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
    });
    try {
      const http = await writeNetrc(join(world.root, 'netrc-http'), [
        { host: '127.0.0.1', port: Number(new URL(stub.url).port), login: 'nuser', password: 'npass' },
      ]);
      const r = await go.modDownload('github.com/testorg/client@v1.0.0', { goproxy: stub.url, netrc: http });
      assert.equal(r.ok, false);
      assert.ok(stub.requests.length > 0, 'the stub saw no request');
      assert.deepEqual(
        stub.requests.filter((q) => q.authorization !== undefined),
        [],
      );
    } finally {
      await stub.close();
    }
  });

  it('credentials in a plain-http GOPROXY URL are refused before connecting, even with GOINSECURE (spec §6 case 15)', async () => {
    const stub = await startStubServer((_req, res) => res.writeHead(500).end());
    try {
      const url = new URL(stub.url);
      url.username = 'u';
      url.password = 'p';
      for (const env of [{}, { GOINSECURE: '*' }] as Array<Record<string, string>>) {
        const r = await go.modDownload('github.com/testorg/client@v1.0.0', { goproxy: url.href, netrc: null, env });
        assert.equal(r.ok, false);
        assert.match(r.Error ?? '', /refusing to pass credentials to insecure URL/);
      }
      assert.equal(stub.requests.length, 0);
    } finally {
      await stub.close();
    }
  });

  it('the server never logs a token or a repository path', () => {
    server.assertLogsClean([UNKNOWN_TOKEN, OUTSIDER_TOKEN, world.reposDir]);
  });
});
