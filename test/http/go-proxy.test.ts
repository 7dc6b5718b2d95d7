import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type RunningServer, startServer } from '../../routes/server.js';
import { parseServerConfig } from '../../src/config.js';
import { credentialHeaders, makeBareRepository, makeTempDir, type Scheme, standardHistory, TOKENS, usersConfig } from './fixtures.js';

/**
 * The standalone server over real git repositories: the auth matrix for every credential form,
 * content types, validators, HEAD, `:id` forms and the error answers.
 */

const PREFIX = 'gitlab.example.com';
const PROJECTS = {
  public: { id: 1, path: 'group/public' },
  internal: { id: 2, path: 'group/internal' },
  private: { id: 3, path: 'group/project' },
} as const;
type Visibility = keyof typeof PROJECTS;
const VISIBILITIES = Object.keys(PROJECTS) as Visibility[];
const MISSING_REPO_ID = 9;

let server: RunningServer;
let tmp: { dir: string; remove(): Promise<void> };

before(async () => {
  tmp = await makeTempDir();
  for (const { path: projectPath } of Object.values(PROJECTS)) {
    await makeBareRepository(path.join(tmp.dir, 'repos', `${projectPath}.git`), standardHistory(`${PREFIX}/${projectPath}`));
  }
  const config = parseServerConfig(
    {
      // The auth matrix below sends many refused tokens from one address; floods.test.ts covers that limit.
      server: { host: '127.0.0.1', port: 0, limits: { authFailures: false } },
      modulePrefix: PREFIX,
      projects: [
        ...VISIBILITIES.map((visibility) => ({
          id: PROJECTS[visibility].id,
          path: PROJECTS[visibility].path,
          repository: `repos/${PROJECTS[visibility].path}.git`,
          visibility,
        })),
        { id: MISSING_REPO_ID, path: 'group/gone', repository: 'repos/group/gone.git', visibility: 'public' },
      ],
      users: usersConfig(PROJECTS.private.id),
    },
    { file: 'go-proxy.test config', baseDir: tmp.dir },
  );
  server = await startServer(config);
});

after(async () => {
  await server?.close();
  await tmp?.remove();
});

function moduleUrl(visibility: Visibility, rest: string, id: string = String(PROJECTS[visibility].id)): string {
  return `${server.url}/api/v4/projects/${id}/packages/go/${PREFIX}/${PROJECTS[visibility].path}/${rest}`;
}

const aliceHeaders = credentialHeaders('basic', TOKENS.alice);

describe('auth matrix: GET <module>/@v/list', () => {
  const failing = { unknown: TOKENS.unknown, expired: TOKENS.expired, revoked: TOKENS.revoked, 'wrong-scope': TOKENS.wrongScope };

  for (const visibility of VISIBILITIES) {
    test(`${visibility} project, no credentials → ${visibility === 'public' ? 200 : 401}`, async () => {
      const res = await fetch(moduleUrl(visibility, '@v/list'));
      if (visibility === 'public') {
        assert.equal(res.status, 200);
        return;
      }
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'), 'Basic realm="GitLab"');
      assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
      assert.equal(await res.text(), '401 Unauthorized\n');
    });
  }

  for (const scheme of ['basic', 'private-token', 'bearer'] as Scheme[]) {
    for (const visibility of VISIBILITIES) {
      test(`${visibility} project, ${scheme}, valid token with membership → 200`, async () => {
        const res = await fetch(moduleUrl(visibility, '@v/list'), { headers: credentialHeaders(scheme, TOKENS.alice) });
        assert.equal(res.status, 200);
        assert.equal(await res.text(), 'v1.0.0\nv1.1.0\nv1.2.0-rc.1\n');
      });

      test(`${visibility} project, ${scheme}, token with api scope → 200`, async () => {
        const res = await fetch(moduleUrl(visibility, '@v/list'), { headers: credentialHeaders(scheme, TOKENS.aliceApi) });
        assert.equal(res.status, 200);
      });

      const noMembership = visibility === 'private' ? 404 : 200;
      test(`${visibility} project, ${scheme}, valid token without membership → ${noMembership}`, async () => {
        const res = await fetch(moduleUrl(visibility, '@v/list'), { headers: credentialHeaders(scheme, TOKENS.bob) });
        assert.equal(res.status, noMembership);
        if (noMembership === 404) await assertPlain404(res);
      });

      for (const [what, token] of Object.entries(failing)) {
        test(`${visibility} project, ${scheme}, ${what} token → 404 like an unknown project`, async () => {
          const res = await fetch(moduleUrl(visibility, '@v/list'), { headers: credentialHeaders(scheme, token) });
          await assertPlain404(res);
        });
      }
    }
  }

  test('unknown project: anonymous → 401, valid token → 404 with the same body as a refused token', async () => {
    const anonymous = await fetch(`${server.url}/api/v4/projects/999/packages/go/${PREFIX}/x/y/@v/list`);
    assert.equal(anonymous.status, 401);
    const known = await fetch(`${server.url}/api/v4/projects/999/packages/go/${PREFIX}/x/y/@v/list`, { headers: aliceHeaders });
    await assertPlain404(known);
    const byPath = await fetch(`${server.url}/api/v4/projects/nope%2Fnothing/packages/go/${PREFIX}/nope/nothing/@v/list`, {
      headers: aliceHeaders,
    });
    await assertPlain404(byPath);
  });

  test('malformed Authorization headers count as failed credentials → 404', async () => {
    for (const authorization of ['Basic !!!', 'Digest abc', 'Bearer ']) {
      const res = await fetch(moduleUrl('public', '@v/list'), { headers: { Authorization: authorization } });
      await assertPlain404(res);
    }
  });
});

describe('content and headers', () => {
  test('list is text/plain, one canonical version per line; HEAD has no body', async () => {
    const res = await fetch(moduleUrl('private', '@v/list'), { headers: aliceHeaders });
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(res.headers.get('cache-control'), 'private, no-cache');
    const body = await res.text();
    const head = await fetch(moduleUrl('private', '@v/list'), { method: 'HEAD', headers: aliceHeaders });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(body)));
    assert.equal(await head.text(), '');
  });

  test('.info is JSON with the committer time in UTC; canonical versions are immutable', async () => {
    const res = await fetch(moduleUrl('private', '@v/v1.0.0.info'), { headers: aliceHeaders });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.headers.get('cache-control'), 'private, max-age=604800, immutable');
    assert.deepEqual(await res.json(), { Version: 'v1.0.0', Time: '2024-01-10T08:00:00Z' });
    const pub = await fetch(moduleUrl('public', '@v/v1.1.0.info'));
    assert.equal(pub.headers.get('cache-control'), 'public, max-age=604800, immutable');
  });

  test('.info for a branch is not immutable', async () => {
    const res = await fetch(moduleUrl('public', '@v/main.info'));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'public, no-cache');
    const info = (await res.json()) as { Version: string };
    assert.match(info.Version, /^v1\.2\.0-rc\.1\.0\.20240410100000-[0-9a-f]{12}$/);
  });

  test('@latest is JSON and revalidated', async () => {
    const res = await fetch(moduleUrl('public', '@latest'));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.headers.get('cache-control'), 'public, no-cache');
    assert.ok(((await res.json()) as { Version?: unknown }).Version);
  });

  test('.mod is the go.mod bytes as text/plain', async () => {
    const res = await fetch(moduleUrl('public', '@v/v1.0.0.mod'));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await res.text(), `module ${PREFIX}/group/public\n\ngo 1.19\n`);
  });

  test('.zip is application/zip with an attachment name; HEAD sends the headers only', async () => {
    const res = await fetch(moduleUrl('private', '@v/v1.1.0.zip'), { headers: aliceHeaders });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/zip');
    assert.equal(res.headers.get('content-disposition'), 'attachment; filename="v1.1.0.zip"');
    assert.equal(res.headers.get('cache-control'), 'private, max-age=604800, immutable');
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(bytes.subarray(0, 4).toString('latin1'), 'PK\x03\x04');
    assert.ok(bytes.includes(Buffer.from(`${PREFIX}/group/project@v1.1.0/greet.go`)));

    const head = await fetch(moduleUrl('private', '@v/v1.1.0.zip'), { method: 'HEAD', headers: aliceHeaders });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-type'), 'application/zip');
    assert.equal(head.headers.get('etag'), res.headers.get('etag'));
    assert.equal(await head.text(), '');
  });

  for (const rest of ['@v/list', '@v/v1.0.0.info', '@v/v1.0.0.mod', '@v/v1.0.0.zip']) {
    test(`${rest}: strong ETag, If-None-Match → 304 without a body`, async () => {
      const first = await fetch(moduleUrl('private', rest), { headers: aliceHeaders });
      await first.arrayBuffer();
      const etag = first.headers.get('etag');
      assert.ok(etag && /^"[^"]+"$/.test(etag), `strong ETag, got ${etag}`);
      const second = await fetch(moduleUrl('private', rest), { headers: { ...aliceHeaders, 'If-None-Match': `"other", ${etag}` } });
      assert.equal(second.status, 304);
      assert.equal(second.headers.get('etag'), etag);
      assert.equal(await second.text(), '');
    });
  }
});

describe(':id forms', () => {
  test('numeric id and URL-encoded full path serve the same project', async () => {
    const byId = await fetch(moduleUrl('private', '@v/list'), { headers: aliceHeaders });
    const byPath = await fetch(moduleUrl('private', '@v/list', 'group%2Fproject'), { headers: aliceHeaders });
    assert.equal(byPath.status, 200);
    assert.equal(await byPath.text(), await byId.text());
  });

  test('full paths match case-insensitively, as GitLab routes do', async () => {
    const res = await fetch(moduleUrl('public', '@v/list', 'GROUP%2FPublic'));
    assert.equal(res.status, 200);
  });

  test('a full path without a slash is not a project', async () => {
    const res = await fetch(moduleUrl('public', '@v/list', 'group'), { headers: aliceHeaders });
    await assertPlain404(res);
  });
});

describe('errors', () => {
  test('bad escapes → 400 text/plain', async () => {
    for (const bad of [
      `${PREFIX}/group/%ZZ/@v/list`,
      `${PREFIX}/Group/public/@v/list`,
      `${PREFIX}/group/public!/@v/list`,
      `${PREFIX}/group/public/@v/v1.0.0-!.info`,
    ]) {
      const res = await fetch(`${server.url}/api/v4/projects/1/packages/go/${bad}`);
      assert.equal(res.status, 400, bad);
      assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
      const body = await res.text();
      assert.equal(body.split('\n').length, 2, `one line: ${body}`);
    }
  });

  test('%21 is percent-decoded before the "!" escape: %21group is "Group", a valid path → 404, not 400', async () => {
    // The project path is lower-case, so no such module; a 400 would mean "%21" was not decoded.
    const res = await fetch(`${server.url}/api/v4/projects/1/packages/go/${PREFIX}/%21group/public/@v/list`);
    assert.equal(res.status, 404);
  });

  test('a bad escape in :id → 400', async () => {
    const res = await fetch(`${server.url}/api/v4/projects/%ZZ/packages/go/${PREFIX}/group/public/@v/list`);
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
  });

  test('unknown version and unknown module → 404 text/plain with one line', async () => {
    for (const rest of ['@v/v9.9.9.info', '@v/v9.9.9.mod', '@v/v9.9.9.zip']) {
      const res = await fetch(moduleUrl('public', rest));
      assert.equal(res.status, 404, rest);
      assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
      assert.match(await res.text(), /^[^\n]+\n$/);
    }
    const other = await fetch(`${server.url}/api/v4/projects/1/packages/go/${PREFIX}/group/other/@v/list`);
    assert.equal(other.status, 404);
    assert.equal(other.headers.get('content-type'), 'text/plain; charset=utf-8');
  });

  test('/sumdb/... → 404, so go asks the checksum database itself', async () => {
    const res = await fetch(`${server.url}/api/v4/projects/1/packages/go/sumdb/sum.golang.org/supported`);
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
  });

  test('paths outside the protocol → 404', async () => {
    for (const rest of [`${PREFIX}/group/public`, `${PREFIX}/group/public/@v/`, `${PREFIX}/group/public/@v/v1.0.0.tar`]) {
      const res = await fetch(`${server.url}/api/v4/projects/1/packages/go/${rest}`);
      assert.equal(res.status, 404, rest);
    }
  });

  test('a repository that cannot be opened is reported at startup and gets 404', async () => {
    assert.deepEqual(server.unavailableProjects, [MISSING_REPO_ID]);
    const res = await fetch(`${server.url}/api/v4/projects/${MISSING_REPO_ID}/packages/go/${PREFIX}/group/gone/@v/list`);
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    const body = await res.text();
    assert.ok(!body.includes(tmp.dir) && !body.includes('gone.git'), body);
  });

  test("other methods are not served: they fall through to the server's text/plain 404", async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const res = await fetch(moduleUrl('public', '@v/list'), { method });
      assert.equal(res.status, 404, method);
      assert.equal(res.headers.get('allow'), null, `${method}: no automatic OPTIONS answer`);
      assert.equal(await res.text(), '404 Not Found\n', method);
    }
  });

  test('error answers carry no ETag, even when the request had a validator', async () => {
    for (const [url, headers] of [
      [moduleUrl('public', '@v/v9.9.9.info'), {}],
      [moduleUrl('private', '@v/list'), {}],
      [moduleUrl('private', '@v/list'), credentialHeaders('bearer', TOKENS.unknown)],
      [`${server.url}/api/v4/projects/1/packages/go/${PREFIX}/group/!!/@v/list`, {}],
    ] as const) {
      const res = await fetch(url, { headers: { ...headers, 'If-None-Match': '*' } });
      assert.ok(res.status >= 400, `${url}: ${res.status}`);
      assert.equal(res.headers.get('etag'), null, url);
      await res.arrayBuffer();
    }
  });

  test('no response names a token or a repository path', async () => {
    const res = await fetch(moduleUrl('private', '@v/list'), { headers: credentialHeaders('private-token', TOKENS.expired) });
    const text = await res.text();
    assert.ok(!text.includes(TOKENS.expired));
    assert.ok(!text.includes(tmp.dir));
  });
});

describe('/-/health', () => {
  test('answers 200 OK, without an ETag', async () => {
    const res = await fetch(`${server.url}/-/health`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('etag'), null);
    assert.equal(await res.text(), 'OK\n');
  });

  test('HEAD answers 200 without a body', async () => {
    const res = await fetch(`${server.url}/-/health`, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '');
  });
});

async function assertPlain404(res: Response): Promise<void> {
  assert.equal(res.status, 404);
  assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(res.headers.get('www-authenticate'), null);
  assert.equal(await res.text(), '404 Not Found\n');
}
