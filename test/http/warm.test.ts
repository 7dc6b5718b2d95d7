import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import { createGoProxyRouter, WARM_NEEDS_CACHE_DIR } from '../../routes/go-proxy.js';
import { type RunningServer, startServer } from '../../routes/server.js';
import { parseServerConfig } from '../../src/config.js';
import type { ProjectServices } from '../../src/service/project-services.js';
import { credentialHeaders, makeBareRepository, makeTempDir, standardHistory, TOKENS, usersConfig } from './fixtures.js';

/**
 * POST …/packages/go/-/warm: a post-receive hook's way to fill the cache. It needs a token with
 * the api scope; afterwards every listed version's zip comes from the disk cache, with its length.
 * Without a disk cache there is nothing to fill: 409.
 */

const PREFIX = 'gitlab.example.com';
const PROJECT = { id: 3, path: 'group/project' };
const MODULE = `${PREFIX}/${PROJECT.path}`;

let server: RunningServer;
let tmp: { dir: string; remove(): Promise<void> };

before(async () => {
  tmp = await makeTempDir();
  await makeBareRepository(path.join(tmp.dir, 'repos', `${PROJECT.path}.git`), standardHistory(MODULE));
  const config = parseServerConfig(
    {
      server: { host: '127.0.0.1', port: 0 },
      modulePrefix: PREFIX,
      projects: [{ id: PROJECT.id, path: PROJECT.path, repository: `repos/${PROJECT.path}.git`, visibility: 'private' }],
      users: usersConfig(PROJECT.id),
      cache: { dir: 'cache' },
    },
    { file: 'warm.test config', baseDir: tmp.dir },
  );
  server = await startServer(config);
});

after(async () => {
  await server?.close();
  await tmp?.remove();
});

const warmUrl = (): string => `${server.url}/api/v4/projects/${PROJECT.id}/packages/go/-/warm`;

async function cachedZips(): Promise<number> {
  const root = path.join(tmp.dir, 'cache', 'zips');
  let n = 0;
  for (const sub of await readdir(root).catch(() => [])) {
    n += (await readdir(path.join(root, sub))).filter((f) => f.endsWith('.zip')).length;
  }
  return n;
}

describe('POST /api/v4/projects/:id/packages/go/-/warm', () => {
  test('without credentials: 401', async () => {
    const res = await fetch(warmUrl(), { method: 'POST' });
    assert.equal(res.status, 401);
  });

  test('a read_api token is not enough: 404, like any failed credentials', async () => {
    const res = await fetch(warmUrl(), { method: 'POST', headers: credentialHeaders('basic', TOKENS.alice) });
    assert.equal(res.status, 404);
    assert.equal(await res.text(), '404 Not Found\n');
  });

  test('an api token starts warming; every listed version then has a cached zip served with its length', async () => {
    const headers = credentialHeaders('private-token', TOKENS.aliceApi);
    const list = await fetch(`${server.url}/api/v4/projects/${PROJECT.id}/packages/go/${MODULE}/@v/list`, { headers });
    const versions = (await list.text()).split('\n').filter(Boolean);
    assert.ok(versions.length >= 2, `versions: ${versions.join(' ')}`);

    const res = await fetch(warmUrl(), { method: 'POST', headers });
    assert.equal(res.status, 202);
    assert.match(((await res.json()) as { status: string }).status, /^(started|running)$/);
    for (let i = 0; i < 100 && (await cachedZips()) < versions.length; i++) await sleep(100);
    assert.equal(await cachedZips(), versions.length);

    for (const version of versions) {
      const zip = await fetch(`${server.url}/api/v4/projects/${PROJECT.id}/packages/go/${MODULE}/@v/${version}.zip`, { headers });
      assert.equal(zip.status, 200);
      const body = Buffer.from(await zip.arrayBuffer());
      assert.equal(zip.headers.get('content-length'), String(body.length));
      assert.equal(body.readUInt32LE(0), 0x04034b50, 'a zip local file header');
    }
  });

  test('a bad escape in :id → 400 text/plain', async () => {
    const res = await fetch(`${server.url}/api/v4/projects/%ZZ/packages/go/-/warm`, {
      method: 'POST',
      headers: credentialHeaders('private-token', TOKENS.aliceApi),
    });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
  });

  test('the 202 has no ETag (only GOPROXY answers carry one)', async () => {
    const res = await fetch(warmUrl(), { method: 'POST', headers: credentialHeaders('private-token', TOKENS.aliceApi) });
    assert.equal(res.status, 202);
    assert.equal(res.headers.get('etag'), null);
    await res.arrayBuffer();
  });
});

describe('POST …/-/warm with no disk cache to fill', () => {
  let plain: RunningServer;

  before(async () => {
    const config = parseServerConfig(
      {
        server: { host: '127.0.0.1', port: 0 },
        modulePrefix: PREFIX,
        projects: [{ id: PROJECT.id, path: PROJECT.path, repository: `repos/${PROJECT.path}.git`, visibility: 'private' }],
        users: usersConfig(PROJECT.id),
        cache: { dir: false },
      },
      { file: 'warm.test config without cache', baseDir: tmp.dir },
    );
    plain = await startServer(config);
  });

  after(() => plain?.close());

  test('a server without cache.dir answers 409 with a one-line reason, after the credentials are checked', async () => {
    const url = `${plain.url}/api/v4/projects/${PROJECT.id}/packages/go/-/warm`;
    assert.equal((await fetch(url, { method: 'POST' })).status, 401);
    assert.equal((await fetch(url, { method: 'POST', headers: credentialHeaders('basic', TOKENS.alice) })).status, 404);
    const res = await fetch(url, { method: 'POST', headers: credentialHeaders('private-token', TOKENS.aliceApi) });
    assert.equal(res.status, 409);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await res.text(), `${WARM_NEEDS_CACHE_DIR}\n`);
  });

  test('a router given `services` (and no `cache`) warms: the services bring their own cache', async () => {
    let warmed = 0;
    const services: ProjectServices = {
      acquire: async () => {
        throw new Error('not used');
      },
      stats: () => ({ openServices: 0, openRepositories: 0, leases: 0, memoryBytes: 0 }),
      modules: async () => [],
      warm: async () => {
        warmed++;
        return { total: 0, done: 0, built: 0, failed: 0, current: '' };
      },
      close: async () => {},
    };
    const app = express();
    app.use(
      createGoProxyRouter({
        modulePrefix: PREFIX,
        projects: { findProject: () => ({ id: 1, fullPath: 'group/project', visibility: 'private', gitdir: '/nonexistent' }) },
        authenticate: () => ({ scopes: ['api'] }),
        canRead: () => true,
        services,
      }),
    );
    const host = app.listen(0, '127.0.0.1');
    await once(host, 'listening');
    try {
      const res = await fetch(`http://127.0.0.1:${(host.address() as AddressInfo).port}/api/v4/projects/1/packages/go/-/warm`, {
        method: 'POST',
        headers: { 'PRIVATE-TOKEN': 'glpat-any' },
      });
      assert.equal(res.status, 202);
      assert.deepEqual(await res.json(), { status: 'started' });
      for (let i = 0; i < 50 && warmed === 0; i++) await sleep(10);
      assert.equal(warmed, 1);
    } finally {
      await new Promise<void>((resolve) => host.close(() => resolve()));
    }
  });
});
