import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { type RunningServer, startServer } from '../../routes/server.js';
import { parseServerConfig } from '../../src/config.js';
import { credentialHeaders, makeBareRepository, makeTempDir, standardHistory, TOKENS, usersConfig } from './fixtures.js';

/**
 * openapi.yaml against live answers: real requests to the standalone server, each answer checked
 * against what the document says of its path, method and status: that the status is documented,
 * the content type is one documented for it, and the documented headers are there (and hold
 * their documented constant). The structural checks are in openapi.test.ts.
 */

const OPENAPI = fileURLToPath(new URL('../../../openapi.yaml', import.meta.url));
const PREFIX = 'gitlab.example.com';

interface Header {
  schema?: { const?: string };
  $ref?: string;
}
interface Response {
  $ref?: string;
  headers?: Record<string, Header>;
  content?: Record<string, unknown>;
}
interface Operation {
  responses: Record<string, Response>;
}
type Document = {
  paths: Record<string, Record<string, Operation>>;
  components: { responses: Record<string, Response>; headers: Record<string, Header> };
};

let doc: Document;
let server: RunningServer;
let tmp: { dir: string; remove(): Promise<void> };

before(async () => {
  doc = parse(await readFile(OPENAPI, 'utf8')) as Document;
  tmp = await makeTempDir();
  for (const name of ['public', 'project']) {
    await makeBareRepository(path.join(tmp.dir, 'repos', `${name}.git`), standardHistory(`${PREFIX}/group/${name}`));
  }
  const config = parseServerConfig(
    {
      server: { host: '127.0.0.1', port: 0 },
      modulePrefix: PREFIX,
      projects: [
        { id: 1, path: 'group/public', repository: 'repos/public.git', visibility: 'public' },
        { id: 3, path: 'group/project', repository: 'repos/project.git', visibility: 'private' },
      ],
      users: usersConfig(3),
      cache: { dir: 'cache' },
    },
    { file: 'openapi-live config', baseDir: tmp.dir },
  );
  server = await startServer(config);
});

after(async () => {
  await server?.close();
  await tmp?.remove();
});

function deref<T extends { $ref?: string }>(value: T): T {
  if (!value.$ref) return value;
  const [, , section, name] = value.$ref.split('/');
  const found = (doc.components as unknown as Record<string, Record<string, T>>)[section!]?.[name!];
  assert.ok(found, `unresolved ${value.$ref}`);
  return deref(found);
}

/** The document's path template that `pathname` matches (`{module}` holds slashes). */
function templateOf(pathname: string): string {
  const matches = Object.keys(doc.paths).filter((template) => {
    const pattern = template
      .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
      .replace('{module}', '.+')
      .replace(/\{[a-z]+\}/g, '[^/]+');
    return new RegExp(`^${pattern}$`).test(pathname);
  });
  assert.equal(matches.length, 1, `${pathname} matches ${matches.join(', ') || 'no documented path'}`);
  return matches[0]!;
}

/** Sends one request and checks its answer against the document; resolves the answer. */
async function checked(method: 'GET' | 'HEAD' | 'POST', url: string, headers: Record<string, string> = {}): Promise<globalThis.Response> {
  const res = await fetch(url, { method, headers });
  const body = method === 'HEAD' ? '' : await res.text();
  const where = `${method} ${new URL(url).pathname} → ${res.status}`;
  const template = templateOf(new URL(url).pathname);
  const operation = doc.paths[template]?.[method.toLowerCase()];
  assert.ok(operation, `${where}: the method is not documented`);
  const documented = operation.responses[String(res.status)];
  assert.ok(documented, `${where}: status not documented (documented: ${Object.keys(operation.responses).join(', ')})`);
  const response = deref(documented);
  if (response.content && body !== '') {
    const type = res.headers.get('content-type') ?? '';
    assert.ok(
      Object.keys(response.content).includes(type),
      `${where}: content type ${type} not among ${Object.keys(response.content).join(', ')}`,
    );
  }
  for (const [name, header] of Object.entries(response.headers ?? {})) {
    const value = res.headers.get(name);
    assert.ok(value !== null, `${where}: documented header ${name} missing`);
    const constant = deref(header).schema?.const;
    if (constant !== undefined) assert.equal(value, constant, `${where}: ${name}`);
  }
  // The document says errors carry no ETag, and only the GOPROXY routes' 200/304 do.
  if (res.status >= 400) assert.equal(res.headers.get('etag'), null, `${where}: an error with an ETag`);
  return res;
}

const proxy = (id: string | number): string => `${server.url}/api/v4/projects/${id}/packages/go`;
const mod = (name: string): string => `${PREFIX}/group/${name}`;
const alice = credentialHeaders('basic', TOKENS.alice);
const aliceApi = credentialHeaders('private-token', TOKENS.aliceApi);

describe('openapi.yaml describes the live answers', () => {
  test('the GOPROXY routes: 200, then 304 with the ETag, for GET and HEAD', async () => {
    for (const rest of ['@v/list', '@latest', '@v/v1.1.0.info', '@v/v1.1.0.mod', '@v/v1.1.0.zip', '@v/main.info']) {
      for (const [id, name, headers] of [
        [1, 'public', {}],
        [3, 'project', alice],
      ] as const) {
        const url = `${proxy(id)}/${mod(name)}/${rest}`;
        const first = await checked('GET', url, headers);
        assert.equal(first.status, 200, url);
        const etag = first.headers.get('etag')!;
        assert.equal((await checked('GET', url, { ...headers, 'If-None-Match': etag })).status, 304);
        assert.equal((await checked('HEAD', url, headers)).status, 200);
      }
    }
  });

  test('the error answers: 400, 401, 404', async () => {
    assert.equal((await checked('GET', `${proxy(1)}/${PREFIX}/Group/public/@v/list`)).status, 400);
    assert.equal((await checked('GET', `${proxy(3)}/${mod('project')}/@v/list`)).status, 401);
    assert.equal((await checked('HEAD', `${proxy(3)}/${mod('project')}/@v/list`)).status, 401);
    assert.equal((await checked('GET', `${proxy(3)}/${mod('project')}/@v/list`, credentialHeaders('basic', TOKENS.bob))).status, 404);
    assert.equal((await checked('GET', `${proxy(1)}/${mod('public')}/@v/v9.9.9.info`)).status, 404);
    assert.equal((await checked('GET', `${proxy(1)}/${mod('public')}/@v/v9.9.9.zip`)).status, 404);
    assert.equal((await checked('GET', `${proxy(99)}/${mod('public')}/@latest`, alice)).status, 404);
  });

  test('warm: 202, 400, 401, 404', async () => {
    assert.equal((await checked('POST', `${proxy(3)}/-/warm`, aliceApi)).status, 202);
    assert.equal((await checked('POST', `${proxy('%ZZ')}/-/warm`, aliceApi)).status, 400);
    assert.equal((await checked('POST', `${proxy(3)}/-/warm`)).status, 401);
    assert.equal((await checked('POST', `${proxy(3)}/-/warm`, alice)).status, 404);
  });

  test('the monitoring endpoints: GET and HEAD from loopback', async () => {
    for (const route of ['/-/liveness', '/-/readiness', '/metrics']) {
      assert.equal((await checked('GET', `${server.url}${route}`)).status, 200, route);
      assert.equal((await checked('HEAD', `${server.url}${route}`)).status, 200, route);
    }
  });

  test('/-/health: GET and HEAD', async () => {
    assert.equal((await checked('GET', `${server.url}/-/health`)).status, 200);
    assert.equal((await checked('HEAD', `${server.url}/-/health`)).status, 200);
  });
});
