import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createHostApp } from '../../examples/mount.js';
import { tokenSha256 } from '../../src/config-stores.js';
import { makeBareRepository, makeTempDir, standardHistory } from './fixtures.js';

/** README's "mount in an existing Express app" example (examples/mount.ts), compiled and run. */

const MODULE = 'gitlab.example.com/acme/widgets';
const TOKEN = 'glpat-mountExampleToken00';
const API_TOKEN = 'glpat-mountExampleApi0000';

let server: Server;
let base: string;
let tmp: { dir: string; remove(): Promise<void> };

before(async () => {
  tmp = await makeTempDir();
  const gitdir = path.join(tmp.dir, 'widgets.git');
  await makeBareRepository(gitdir, standardHistory(MODULE));
  const app = createHostApp({
    projects: [{ id: 7, fullPath: 'acme/widgets', visibility: 'private', gitdir }],
    users: [
      { username: 'alice', tokenSha256: tokenSha256(TOKEN), scopes: ['read_api'], projectIds: [7] },
      { username: 'ci', tokenSha256: tokenSha256(API_TOKEN), scopes: ['api'], projectIds: [7] },
    ],
  });
  // The host's own handlers, placed after the router: whatever the router does not serve reaches them.
  app.options('/{*rest}', (_req, res) => {
    res.set('X-Host', 'options').status(204).end();
  });
  app.all(['/api/v4/{*rest}', '/go-mirror/api/v4/{*rest}'], (req, res) => {
    res.set('X-Host', req.method).status(418).send('the host app');
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await tmp.remove();
});

const auth = { Authorization: `Basic ${Buffer.from(`alice:${TOKEN}`).toString('base64')}` };

describe('examples/mount.ts', () => {
  test('the host app keeps its own routes', async () => {
    const res = await fetch(`${base}/`);
    assert.equal(await res.text(), 'the host app');
  });

  for (const prefix of ['', '/go-mirror']) {
    test(`the proxy answers under ${prefix || 'the root'}/api/v4/projects/:id/packages/go`, async () => {
      const url = `${base}${prefix}/api/v4/projects/7/packages/go/${MODULE}/@v/list`;
      const res = await fetch(url, { headers: auth });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'v1.0.0\nv1.1.0\nv1.2.0-rc.1\n');
      const byPath = await fetch(`${base}${prefix}/api/v4/projects/acme%2Fwidgets/packages/go/${MODULE}/@v/v1.0.0.info`, { headers: auth });
      assert.equal(byPath.status, 200);
      assert.equal(((await byPath.json()) as { Version: string }).Version, 'v1.0.0');
    });
  }

  test('the private project needs the token: 401 without, 404 with a wrong one', async () => {
    const url = `${base}/api/v4/projects/7/packages/go/${MODULE}/@v/list`;
    assert.equal((await fetch(url)).status, 401);
    const wrong = await fetch(url, { headers: { 'PRIVATE-TOKEN': 'glpat-wrong' } });
    assert.equal(wrong.status, 404);
    assert.equal(await wrong.text(), '404 Not Found\n');
  });

  test('requests outside the proxy fall through to the host app', async () => {
    const res = await fetch(`${base}/api/v4/projects/7/issues`);
    assert.equal(res.status, 418);
    assert.equal(res.headers.get('x-host'), 'GET');
    const outside = await fetch(`${base}/elsewhere`);
    assert.equal(outside.status, 404);
    // Express's own 404 page, not the proxy's text/plain one.
    assert.match(outside.headers.get('content-type') ?? '', /text\/html/);
  });

  for (const prefix of ['', '/go-mirror']) {
    const proxy = `${prefix}/api/v4/projects/7/packages/go`;

    test(`OPTIONS under ${prefix || 'the root'} reaches the host's app.options handler, with or without credentials`, async () => {
      for (const path of [
        `${proxy}/${MODULE}/@v/list`,
        `${proxy}/${MODULE}/@v/v1.0.0.zip`,
        `${proxy}/${MODULE}/@latest`,
        `${proxy}/-/warm`,
      ]) {
        for (const headers of [{}, auth]) {
          const res = await fetch(`${base}${path}`, { method: 'OPTIONS', headers });
          assert.equal(res.status, 204, path);
          assert.equal(res.headers.get('x-host'), 'options', path);
          assert.equal(res.headers.get('allow'), null, `${path}: not the router's automatic answer`);
        }
      }
    });

    test(`other methods under ${prefix || 'the root'} reach the host app (POST too, except on -/warm)`, async () => {
      for (const method of ['PUT', 'PATCH', 'DELETE', 'POST']) {
        const res = await fetch(`${base}${proxy}/${MODULE}/@v/list`, { method, headers: auth });
        assert.equal(res.status, 418, method);
        assert.equal(res.headers.get('x-host'), method);
      }
      const warm = await fetch(`${base}${proxy}/-/warm`, { method: 'PUT', headers: auth });
      assert.equal(warm.status, 418);
    });

    test(`POST ${prefix}…/-/warm without cache.dir: 409 with a one-line reason, after the credentials are checked`, async () => {
      const url = `${base}${proxy}/-/warm`;
      assert.equal((await fetch(url, { method: 'POST' })).status, 401);
      assert.equal((await fetch(url, { method: 'POST', headers: auth })).status, 404, 'read_api cannot warm');
      const res = await fetch(url, { method: 'POST', headers: { 'PRIVATE-TOKEN': API_TOKEN } });
      assert.equal(res.status, 409);
      assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
      assert.equal(res.headers.get('etag'), null);
      assert.equal(await res.text(), 'warm needs a cache directory (cache.dir)\n');
    });
  }
});

test('README.md shows examples/mount.ts verbatim', async () => {
  // dist/test/http → the package root.
  const root = (file: string) => fileURLToPath(new URL(`../../../${file}`, import.meta.url));
  const [readme, example] = await Promise.all([readFile(root('README.md'), 'utf8'), readFile(root('examples/mount.ts'), 'utf8')]);
  assert.ok(readme.includes(`\`\`\`ts\n${example}\`\`\``), 'the README code block differs from examples/mount.ts');
});
