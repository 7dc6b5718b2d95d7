/**
 * Issue 10, end to end with the real `go` over HTTPS and `.netrc`: vanity module paths, two
 * gopkg.in-style majors from one repository, one GOPROXY for a whole group (projects in nested
 * subgroups), deploy tokens, the group endpoint's auth matrix, GOPRIVATE users discovering the
 * proxy through a `mod` go-import tag, and Go 1.24's GOAUTH and `host:port` netrc lines.
 *
 * Direct mode is the reference: go resolves the vanity hosts (go.example.org, gopkg.in) through a
 * CONNECT proxy (HTTPS_PROXY) to a small HTTPS page that answers `git` go-import tags, and git's
 * `insteadOf` turns those URLs into the fixtures' bare repositories. Every hash is compared.
 * test/e2e/toolchains.test.ts runs this file again with Go 1.24.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFile, chmod, readdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BuiltRepo, createFixtureWorld, type FixtureWorld, runCapture } from '../helpers/fixtures.js';
import {
  type CertPair,
  createSelfSignedCert,
  type DownloadResult,
  diffDownloads,
  GoClient,
  type GoMode,
  goMinor,
  goSkipReason,
  writeNetrc,
} from '../helpers/go-client.js';
import { CLI_PATH, type ProxyServer, startProxy } from '../helpers/proxy-process.js';

const skip = await goSkipReason();

const DEV = `glpat-${randomBytes(10).toString('hex')}`;
const OUTSIDER = `glpat-${randomBytes(10).toString('hex')}`;
const DEPLOY = `gldt-${randomBytes(10).toString('hex')}`;
const basic = (user: string, token: string) => `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;

const VANITY = 'go.example.org';
const ROOTS = {
  lib: `${VANITY}/lib`,
  core: `${VANITY}/core`,
  tools: `${VANITY}/tools`,
  secret: `${VANITY}/secret`,
  yaml2: 'gopkg.in/yaml.v2',
  yaml3: 'gopkg.in/yaml.v3',
};
const ID = { lib: 21, yaml2: 22, yaml3: 23, core: 24, tools: 25, secret: 26 } as const;

/** A CONNECT proxy that sends every tunnel, whatever host it names, to 127.0.0.1:<port()>. */
async function startConnectProxy(port: () => number): Promise<{ url: string; hosts: string[]; close(): Promise<void> }> {
  const hosts: string[] = [];
  const server = http.createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req, client: net.Socket, head: Buffer) => {
    hosts.push(req.url ?? '');
    const upstream = net.connect(port(), '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    hosts,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/** What the vanity hosts answer in direct mode: a `git` go-import tag for the longest known root. */
async function startVanityPages(cert: CertPair, roots: readonly string[]): Promise<{ port: number; close(): Promise<void> }> {
  const options = { cert: await readFile(cert.certFile), key: await readFile(cert.keyFile) };
  const server = https.createServer(options, (req, res) => {
    const url = new URL(req.url ?? '/', `https://${req.headers.host}`);
    const modulePath = `${url.hostname}${url.pathname}`.replace(/\/+$/, '');
    const root = roots.filter((r) => modulePath === r || modulePath.startsWith(`${r}/`)).sort((a, b) => b.length - a.length)[0];
    if (!root || url.searchParams.get('go-get') !== '1') {
      res.writeHead(404).end('not found\n');
      return;
    }
    res
      .writeHead(200, { 'Content-Type': 'text/html' })
      .end(`<html><head><meta name="go-import" content="${root} git https://${root}"></head></html>\n`);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

function assertSame(direct: DownloadResult, proxy: DownloadResult, server: ProxyServer, what = ''): void {
  assert.ok(direct.ok, `direct mode failed: ${direct.Error}`);
  assert.ok(proxy.ok, `${what}${proxy.query}: ${proxy.Error}\n${server.output().trim().split('\n').slice(-10).join('\n')}`);
  assert.deepEqual(diffDownloads(direct, proxy), [], `${proxy.query}: proxy differs from direct mode`);
}

describe('how clients find modules: vanity paths, group endpoint, discovery, deploy tokens (issue 10)', { skip: skip ?? false }, () => {
  let world: FixtureWorld;
  let server: ProxyServer;
  let go: GoClient;
  let cert: CertPair;
  let pages: { port: number; close(): Promise<void> };
  let toPages: Awaited<ReturnType<typeof startConnectProxy>>;
  let toServer: Awaited<ReturnType<typeof startConnectProxy>>;
  let devNetrc: string;
  let direct: GoMode;
  const repos: Record<string, BuiltRepo> = {};
  // Each query once in direct mode: the reference for every mode below.
  const references = new Map<string, Promise<DownloadResult>>();
  const reference = (query: string): Promise<DownloadResult> => {
    let known = references.get(query);
    if (!known) {
      known = go.modDownload(query, direct);
      references.set(query, known);
    }
    return known;
  };

  before(async () => {
    world = await createFixtureWorld('goproxy-discovery-');
    cert = await createSelfSignedCert(join(world.root, 'tls'), [VANITY, 'gopkg.in']);
    const lib = (root: string, text: string) => ({
      'go.mod': `module ${root}\n\ngo 1.19\n`,
      'lib.go': `package lib\n\nconst Text = ${JSON.stringify(text)}\n`,
    });
    repos.lib = await world.build({
      org: 'acme',
      name: 'lib',
      commits: [
        { date: '2024-01-02T10:00:00Z', tags: ['v1.0.0'], tree: lib(ROOTS.lib, 'one') },
        {
          date: '2024-01-03T10:00:00Z',
          tags: ['v1.1.0', 'sub/v1.0.0'],
          tree: { ...lib(ROOTS.lib, 'two'), 'sub/go.mod': `module ${ROOTS.lib}/sub\n\ngo 1.19\n`, 'sub/sub.go': 'package sub\n' },
        },
      ],
    });
    repos.yaml = await world.build({
      org: 'acme',
      name: 'yaml',
      commits: [
        { date: '2024-02-01T10:00:00Z', tags: ['v2.0.0'], tree: lib(ROOTS.yaml2, 'v2.0') },
        { date: '2024-02-02T10:00:00Z', tags: ['v2.1.0'], tree: lib(ROOTS.yaml2, 'v2.1') },
        { date: '2024-02-03T10:00:00Z', tags: ['v3.0.0'], tree: lib(ROOTS.yaml3, 'v3.0') },
      ],
    });
    for (const name of ['core', 'tools', 'secret'] as const) {
      repos[name] = await world.build({
        org: 'acme',
        name,
        commits: [{ date: '2024-03-01T10:00:00Z', tags: ['v0.1.0'], tree: lib(ROOTS[name], name) }],
      });
    }
    // Direct mode: git fetches the vanity URLs from the bare repositories.
    const insteadOf = (root: string, repo: BuiltRepo) => `[url "file://${repo.gitdir}"]\n\tinsteadOf = https://${root}\n`;
    await appendFile(
      join(world.homeDir, '.gitconfig'),
      [
        insteadOf(ROOTS.lib, repos.lib!),
        insteadOf(ROOTS.core, repos.core!),
        insteadOf(ROOTS.tools, repos.tools!),
        insteadOf(ROOTS.secret, repos.secret!),
        `[url "file://${repos.yaml!.gitdir}"]\n\tinsteadOf = https://${ROOTS.yaml2}\n\tinsteadOf = https://${ROOTS.yaml3}\n`,
      ].join(''),
    );
    pages = await startVanityPages(cert, Object.values(ROOTS));
    toPages = await startConnectProxy(() => pages.port);

    server = await startProxy({
      dir: join(world.root, 'server'),
      modulePrefix: 'gitlab.example.com',
      tls: { cert: cert.certFile, key: cert.keyFile },
      projects: [
        { id: ID.lib, path: 'acme/lib', repository: repos.lib.gitdir, visibility: 'private', modulePath: ROOTS.lib },
        { id: ID.yaml2, path: 'acme/yaml-v2', repository: repos.yaml.gitdir, visibility: 'public', modulePath: ROOTS.yaml2 },
        { id: ID.yaml3, path: 'acme/yaml-v3', repository: repos.yaml.gitdir, visibility: 'public', modulePath: ROOTS.yaml3 },
        { id: ID.core, path: 'acme/platform/core', repository: repos.core!.gitdir, visibility: 'internal', modulePath: ROOTS.core },
        { id: ID.tools, path: 'acme/platform/dev/tools', repository: repos.tools!.gitdir, visibility: 'private', modulePath: ROOTS.tools },
        { id: ID.secret, path: 'other/secret', repository: repos.secret!.gitdir, visibility: 'private', modulePath: ROOTS.secret },
      ],
      groups: [{ id: 5, path: 'acme/platform' }],
      users: [
        { username: 'dev', projects: [ID.lib, ID.tools, ID.secret], tokens: [{ token: DEV, scopes: ['read_api'] }] },
        { username: 'outsider', projects: [], tokens: [{ token: OUTSIDER, scopes: ['read_api'] }] },
      ],
      deployTokens: [{ username: 'deploy-acme', token: DEPLOY, scopes: ['read_package_registry'], groups: ['acme'] }],
    });
    toServer = await startConnectProxy(() => server.port);
    go = new GoClient({ world, certFile: cert.certFile });
    devNetrc = await writeNetrc(join(world.root, 'netrc-dev'), [
      { host: '127.0.0.1', port: server.port, login: 'dev', password: DEV },
      { host: VANITY, login: 'dev', password: DEV },
    ]);
    direct = { goproxy: 'direct', label: 'direct', env: { HTTPS_PROXY: toPages.url, GOPRIVATE: '', GONOSUMDB: '*' } };
  });

  after(async () => {
    server?.assertLogsClean();
    await server?.stop();
    await toServer?.close();
    await toPages?.close();
    await pages?.close();
    await world?.dispose();
  });

  const group = (id: string | number) => `${server.origin}/api/v4/groups/${encodeURIComponent(String(id))}/-/packages/go`;

  it('a vanity module path and a module in its subdirectory, through the project endpoint, equal direct mode', async () => {
    const mode: GoMode = { goproxy: server.goproxy(ID.lib), netrc: devNetrc };
    for (const query of [`${ROOTS.lib}@v1.0.0`, `${ROOTS.lib}@v1.1.0`, `${ROOTS.lib}/sub@v1.0.0`, `${ROOTS.lib}@latest`]) {
      assertSame(await reference(query), await go.modDownload(query, mode), server);
    }
    assert.deepEqual((await go.listVersions(ROOTS.lib, mode)).versions, ['v1.0.0', 'v1.1.0']);
  });

  it('gopkg.in/yaml.v2 and gopkg.in/yaml.v3 served from one repository by two projects, equal direct mode', async () => {
    for (const [id, query] of [
      [ID.yaml2, `${ROOTS.yaml2}@v2.0.0`],
      [ID.yaml2, `${ROOTS.yaml2}@v2.1.0`],
      [ID.yaml3, `${ROOTS.yaml3}@v3.0.0`],
    ] as const) {
      assertSame(await reference(query), await go.modDownload(query, { goproxy: server.goproxy(id), netrc: null }), server);
    }
    assert.deepEqual((await go.listVersions(ROOTS.yaml2, { goproxy: server.goproxy(ID.yaml2), netrc: null })).versions, [
      'v2.0.0',
      'v2.1.0',
    ]);
    assert.deepEqual((await go.listVersions(ROOTS.yaml3, { goproxy: server.goproxy(ID.yaml3), netrc: null })).versions, ['v3.0.0']);
  });

  it('one GOPROXY for the group serves every project of its nested subgroups, equal direct mode', async () => {
    const mode: GoMode = { goproxy: group('acme'), netrc: devNetrc };
    for (const query of [
      `${ROOTS.lib}@v1.1.0`,
      `${ROOTS.lib}/sub@v1.0.0`,
      `${ROOTS.core}@v0.1.0`,
      `${ROOTS.tools}@v0.1.0`,
      `${ROOTS.yaml3}@v3.0.0`,
    ]) {
      assertSame(await reference(query), await go.modDownload(query, mode), server);
    }
    // A numeric id where the group is configured, and a subgroup's full path.
    for (const id of [5, 'acme/platform']) {
      const query = `${ROOTS.tools}@v0.1.0`;
      assertSame(await reference(query), await go.modDownload(query, { goproxy: group(id), netrc: devNetrc }), server);
    }
  });

  it('a group deploy token in .netrc reads the group, equal direct mode, and nothing outside it', async () => {
    const netrc = await writeNetrc(join(world.root, 'netrc-deploy'), [
      { host: '127.0.0.1', port: server.port, login: 'deploy-acme', password: DEPLOY },
    ]);
    for (const query of [`${ROOTS.lib}@v1.0.0`, `${ROOTS.tools}@v0.1.0`]) {
      assertSame(await reference(query), await go.modDownload(query, { goproxy: group('acme'), netrc }), server);
    }
    const viaProject = `${ROOTS.lib}@v1.1.0`;
    assertSame(await reference(viaProject), await go.modDownload(viaProject, { goproxy: server.goproxy(ID.lib), netrc }), server);
    const outside = await go.modDownload(`${ROOTS.secret}@v0.1.0`, { goproxy: server.goproxy(ID.secret), netrc });
    assert.match(outside.Error ?? '', /404 Not Found/);
    // The username is part of a deploy token's credentials.
    const wrongUser = await server.request(`/api/v4/groups/acme/-/packages/go/${ROOTS.lib}/@v/list`, {
      headers: { Authorization: basic('someone', DEPLOY) },
    });
    assert.equal(wrongUser.status, 404);
  });

  it('the group endpoint keeps the auth matrix: 401 without credentials, 404 for bad ones, private projects never show', async () => {
    const list = (root: string) => `/api/v4/groups/acme/-/packages/go/${root}/@v/list`;
    const cases: Array<[string, Record<string, string>, string, number]> = [
      ['anonymous, public project', {}, ROOTS.yaml3, 200],
      ['anonymous, internal project', {}, ROOTS.core, 401],
      ['anonymous, private project', {}, ROOTS.lib, 401],
      ['anonymous, no such module', {}, `${VANITY}/nothing`, 401],
      ['unknown token, public project', { Authorization: basic('x', `glpat-${'0'.repeat(20)}`) }, ROOTS.yaml3, 404],
      ['unknown token, private project', { Authorization: basic('x', `glpat-${'0'.repeat(20)}`) }, ROOTS.lib, 404],
      ['outsider, internal project', { Authorization: basic('outsider', OUTSIDER) }, ROOTS.core, 200],
      ['outsider, private project', { Authorization: basic('outsider', OUTSIDER) }, ROOTS.lib, 404],
      ['outsider, no such module', { Authorization: basic('outsider', OUTSIDER) }, `${VANITY}/nothing`, 404],
      ['member, project outside the group', { Authorization: basic('dev', DEV) }, ROOTS.secret, 404],
      ['member, private_token query parameter', {}, `${ROOTS.lib}`, 200],
    ];
    for (const [what, headers, root, status] of cases) {
      const path = what.includes('private_token') ? `${list(root)}?private_token=${DEV}` : list(root);
      const res = await server.request(path, { headers });
      assert.equal(res.status, status, `${what}: ${res.status} ${res.text}`);
    }
    const unknownGroup = await server.request(`/api/v4/groups/nope/-/packages/go/${ROOTS.lib}/@v/list`, {
      headers: { Authorization: basic('dev', DEV) },
    });
    const noAccess = await server.request(list(ROOTS.lib), { headers: { Authorization: basic('outsider', OUTSIDER) } });
    assert.deepEqual([unknownGroup.status, unknownGroup.text], [noAccess.status, noAccess.text]);
    // With go: no credentials on a private module is an auth error, not a fall-through.
    const anonymous = await go.modDownload(`${ROOTS.lib}@v1.0.0`, { goproxy: group('acme'), netrc: null });
    assert.match(anonymous.Error ?? '', /401 Unauthorized/);
  });

  it('GOPRIVATE users find the proxy through a mod go-import tag, equal direct mode', async () => {
    const page = await server.request(`/lib/sub?go-get=1`, { headers: { Host: VANITY, Authorization: basic('dev', DEV) } });
    assert.equal(page.status, 200);
    assert.match(
      page.text,
      new RegExp(`<meta name="go-import" content="${ROOTS.lib} mod https://${VANITY}/api/v4/projects/${ID.lib}/packages/go">`),
    );
    const hidden = await server.request(`/lib?go-get=1`, { headers: { Host: VANITY } });
    const missing = await server.request(`/nothing?go-get=1`, { headers: { Host: VANITY } });
    assert.deepEqual([hidden.status, hidden.text], [missing.status, missing.text]);

    const mode: GoMode = {
      goproxy: 'https://proxy.invalid',
      netrc: devNetrc,
      label: 'goprivate',
      env: { GOPRIVATE: VANITY, HTTPS_PROXY: toServer.url },
    };
    for (const query of [`${ROOTS.lib}@v1.1.0`, `${ROOTS.lib}/sub@v1.0.0`, `${ROOTS.core}@v0.1.0`]) {
      assertSame(await reference(query), await go.modDownload(query, mode), server);
    }
    assert.ok(
      toServer.hosts.some((h) => h.startsWith(`${VANITY}:`)),
      'go went through the CONNECT proxy',
    );
    const anonymous = await go.modDownload(`${ROOTS.lib}@v1.0.0`, { ...mode, netrc: null });
    assert.equal(anonymous.ok, false);
    assert.match(anonymous.Error ?? '', /unrecognized import path|404 Not Found/);
  });

  it('client-setup prints a working setup: its GOPROXY, GONOSUMDB and .netrc lines drive go to the same hashes as direct mode', async () => {
    const dir = join(world.root, 'server');
    const configFile = join(dir, (await readdir(dir)).find((f) => /^config-\d+\.yaml$/.test(f))!);
    const printed = await runCapture(
      process.execPath,
      [CLI_PATH, 'client-setup', '--config', configFile, '--group', 'acme', '--url', server.origin, '--username', 'dev'],
      {
        env: process.env,
        timeoutMs: 30_000,
      },
    );
    const text = printed.stdout.toString();
    assert.equal(printed.code, 0, printed.stderr.toString());
    const goEnv = (name: string) => new RegExp(`^go env -w ${name}=(.*)$`, 'm').exec(text)?.[1];
    const goproxy = goEnv('GOPROXY');
    const gonosumdb = goEnv('GONOSUMDB');
    assert.equal(goproxy, `${group('acme')},https://proxy.golang.org,direct`);
    assert.equal(gonosumdb, [ROOTS.core, ROOTS.lib, ROOTS.tools, ROOTS.yaml2, ROOTS.yaml3].sort().join(','));
    const machines = text.split('\n').filter((l) => l.startsWith('machine '));
    assert.equal(machines.length, 2);
    const netrc = join(world.root, 'netrc-client-setup');
    await writeFile(netrc, `${machines.map((l) => l.replace(/ TOKEN$/, ` ${DEV}`)).join('\n')}\n`, { mode: 0o600 });
    const mode: GoMode = { goproxy: goproxy!, netrc, label: 'client-setup', env: { GONOSUMDB: gonosumdb!, GOSUMDB: 'sum.golang.org' } };
    for (const query of [`${ROOTS.lib}@v1.1.0`, `${ROOTS.tools}@v0.1.0`]) {
      assertSame(await reference(query), await go.modDownload(query, mode), server);
    }
  });

  it('Go 1.24: GOAUTH commands and host:port-only .netrc lines; older go matches netrc by host only', async () => {
    const minor = await goMinor();
    const query = `${ROOTS.lib}@v1.0.0`;
    const portOnly = join(world.root, 'netrc-port-only');
    await writeFile(portOnly, `machine 127.0.0.1:${server.port} login dev password ${DEV}\n`, { mode: 0o600 });
    const withPort = await go.modDownload(query, { goproxy: server.goproxy(ID.lib), netrc: portOnly });
    if (minor >= 24) assertSame(await reference(query), withPort, server, 'host:port netrc: ');
    else assert.match(withPort.Error ?? '', /401 Unauthorized/);
    if (minor < 24) return;

    const script = join(world.root, 'goauth.sh');
    // The URL line is the origin without a trailing slash: Go 1.24.4 attaches no header for "https://host:port/".
    await writeFile(script, `#!/bin/sh\nprintf '%s\\n\\n%s\\n\\n' "${server.origin}" "Authorization: Bearer ${DEV}"\n`);
    await chmod(script, 0o700);
    const viaCommand = await go.modDownload(query, { goproxy: server.goproxy(ID.lib), netrc: null, env: { GOAUTH: script } });
    assertSame(await reference(query), viaCommand, server, 'GOAUTH command: ');
    const off = await go.modDownload(query, { goproxy: server.goproxy(ID.lib), netrc: devNetrc, env: { GOAUTH: 'off' } });
    assert.match(off.Error ?? '', /401 Unauthorized/);
    const netrcDefault = await go.modDownload(query, { goproxy: server.goproxy(ID.lib), netrc: devNetrc, env: { GOAUTH: 'netrc' } });
    assertSame(await reference(query), netrcDefault, server);
  });
});
