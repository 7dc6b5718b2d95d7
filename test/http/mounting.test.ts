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

let server: Server;
let base: string;
let tmp: { dir: string; remove(): Promise<void> };

before(async () => {
  tmp = await makeTempDir();
  const gitdir = path.join(tmp.dir, 'widgets.git');
  await makeBareRepository(gitdir, standardHistory(MODULE));
  const app = createHostApp({
    projects: [{ id: 7, fullPath: 'acme/widgets', visibility: 'private', gitdir }],
    users: [{ username: 'alice', tokenSha256: tokenSha256(TOKEN), scopes: ['read_api'], projectIds: [7] }],
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
    assert.equal(res.status, 404);
    // Express's own 404 page, not the proxy's text/plain one.
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
  });
});

test('README.md shows examples/mount.ts verbatim', async () => {
  // dist/test/http → the package root.
  const root = (file: string) => fileURLToPath(new URL(`../../../${file}`, import.meta.url));
  const [readme, example] = await Promise.all([readFile(root('README.md'), 'utf8'), readFile(root('examples/mount.ts'), 'utf8')]);
  assert.ok(readme.includes(`\`\`\`ts\n${example}\`\`\``), 'the README code block differs from examples/mount.ts');
});
