import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import { createGoGetDiscovery } from '../../routes/go-get-discovery.js';
import { createGoProxyRouter } from '../../routes/go-proxy.js';
import { createGroupGoProxyRouter } from '../../routes/group-proxy.js';
import { clientSetup } from '../../src/cli/client-setup.js';
import { parseServerConfig } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import type { Group } from '../../src/service/group-stores.js';
import { createProjectServices } from '../../src/service/project-services.js';
import type { Credentials, Principal, Project } from '../../src/service/stores.js';
import { httpRequest } from '../helpers/proxy-process.js';
import { makeBareRepository, makeTempDir, standardHistory } from './fixtures.js';

/**
 * Mounted: the group router and the discovery middleware with a host's own hooks, CI job tokens
 * (`JOB-TOKEN`, `job_token`) that only the host can check, `private_token`, and no token in a log line.
 */

const JOB = 'glcbt-64_ciJobTokenForTests000';
const PAT = 'glpat-mountedClientRoutes00';

let server: Server;
let base: string;
let tmp: { dir: string; remove(): Promise<void> };
const logLines: string[] = [];
const seen: Credentials[] = [];

function recordingLogger(): Logger {
  const write = (level: string) => (fields: object, message?: string) => {
    logLines.push(`${level} ${JSON.stringify(fields)} ${message ?? ''}`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') } as Logger;
}

before(async () => {
  tmp = await makeTempDir();
  const widgets = path.join(tmp.dir, 'widgets.git');
  await makeBareRepository(widgets, standardHistory('go.acme.test/widgets'));
  const projects: Project[] = [
    { id: 7, fullPath: 'acme/team/widgets', visibility: 'private', gitdir: widgets, modulePath: 'go.acme.test/widgets' },
  ];
  const groups: Group[] = [{ id: 3, fullPath: 'acme' }];
  const hooks = {
    authenticate(credentials: Credentials): Principal | null {
      seen.push(credentials);
      if (credentials.source === 'job-token' && credentials.token === JOB) return { scopes: ['read_api'] };
      if (credentials.source !== 'job-token' && credentials.token === PAT) return { scopes: ['read_api'] };
      return null;
    },
    canRead: () => true,
  };
  const logger = recordingLogger();
  const services = createProjectServices({ modulePrefix: 'gitlab.acme.test', logger });
  const app = express();
  app.use(
    createGoProxyRouter({
      modulePrefix: 'gitlab.acme.test',
      projects: { findProject: (id) => projects.find((p) => String(p.id) === id) ?? null },
      ...hooks,
      logger,
      services,
    }),
  );
  app.use(
    createGroupGoProxyRouter({
      modulePrefix: 'gitlab.acme.test',
      groups: {
        findGroup: (id) => groups.find((g) => String(g.id) === id || g.fullPath === id) ?? null,
        groupProjects: (group) => projects.filter((p) => p.fullPath.startsWith(`${group.fullPath}/`)),
      },
      ...hooks,
      logger,
      services,
    }),
  );
  app.use(
    createGoGetDiscovery({
      modulePrefix: 'gitlab.acme.test',
      roots: { projectsForModule: () => projects },
      ...hooks,
      logger,
      externalUrl: 'https://go.acme.test/',
    }),
  );
  app.use((_req, res) => {
    res.status(418).send('the host app');
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await tmp.remove();
});

describe('mounted group router, discovery and CI job tokens', () => {
  const list = '/api/v4/groups/3/-/packages/go/go.acme.test/widgets/@v/list';

  test('a CI job token reaches the hook as source job-token, from the JOB-TOKEN header or the job_token parameter', async () => {
    seen.length = 0;
    const header = await fetch(`${base}${list}`, { headers: { 'JOB-TOKEN': JOB } });
    assert.equal(header.status, 200);
    assert.equal(await header.text(), 'v1.0.0\nv1.1.0\nv1.2.0-rc.1\n');
    const param = await fetch(`${base}/api/v4/projects/7/packages/go/go.acme.test/widgets/@v/list?job_token=${JOB}`);
    assert.equal(param.status, 200);
    assert.deepEqual(
      seen.map((c) => c.source),
      ['job-token', 'job-token'],
    );
    // A job token is not a personal access token: the hook refuses it as one.
    const asPat = await fetch(`${base}${list}`, { headers: { 'PRIVATE-TOKEN': JOB } });
    assert.equal(asPat.status, 404);
  });

  test('private_token as a query parameter, on the project and the group endpoint; a wrong one is 404, none is 401', async () => {
    assert.equal((await fetch(`${base}${list}?private_token=${PAT}`)).status, 200);
    assert.equal((await fetch(`${base}/api/v4/projects/7/packages/go/go.acme.test/widgets/@latest?private_token=${PAT}`)).status, 200);
    assert.equal((await fetch(`${base}${list}?private_token=wrong`)).status, 404);
    assert.equal((await fetch(`${base}${list}`)).status, 401);
    assert.equal((await fetch(`${base}/api/v4/groups/9/-/packages/go/go.acme.test/widgets/@v/list?private_token=${PAT}`)).status, 404);
  });

  test('?go-get=1 answers the mod tag at externalUrl for a subdirectory; without credentials, the 404 of a path nobody serves', async () => {
    // fetch() cannot set Host; node:http can.
    const get = (p: string) => httpRequest(`${base}${p}`, { method: 'GET', headers: { Host: 'go.acme.test' } });
    const page = await get(`/widgets/sub/pkg?go-get=1&private_token=${PAT}`);
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(
      page.text,
      /<meta name="go-import" content="go\.acme\.test\/widgets mod https:\/\/go\.acme\.test\/api\/v4\/projects\/7\/packages\/go">/,
    );
    const hidden = await get('/widgets?go-get=1');
    const nothing = await get('/nothing?go-get=1');
    assert.deepEqual([hidden.status, hidden.text], [nothing.status, nothing.text]);
    assert.equal(hidden.status, 404);
    // Without go-get=1 the host app answers.
    assert.equal((await get('/widgets')).status, 418);
  });

  test('no token from a query string or header reaches a log line', () => {
    assert.ok(logLines.length > 0);
    for (const line of logLines) {
      assert.ok(!line.includes(JOB) && !line.includes(PAT) && !line.includes('wrong'), line);
    }
  });
});

describe('client-setup', () => {
  const config = parseServerConfig(
    {
      server: { host: '0.0.0.0', port: 8443, tls: { cert: 'c.pem', key: 'k.pem' } },
      modulePrefix: 'gitlab.example.com',
      projects: [
        { id: 1, path: 'acme/lib', repository: 'lib.git', visibility: 'private', modulePath: 'go.example.org/lib' },
        { id: 2, path: 'acme/platform/core', repository: 'core.git', visibility: 'internal' },
        { id: 3, path: 'other/x', repository: 'x.git', visibility: 'public' },
      ],
    },
    { file: 'config.yaml', baseDir: '/etc/proxy' },
  );

  test('a project: GOPROXY, GONOSUMDB, both .netrc lines and the GOAUTH note', () => {
    const text = clientSetup(config, { project: '1', username: 'alice' });
    assert.match(
      text,
      /^go env -w GOPROXY=https:\/\/127\.0\.0\.1:8443\/api\/v4\/projects\/1\/packages\/go,https:\/\/proxy\.golang\.org,direct$/m,
    );
    assert.match(text, /^go env -w GONOSUMDB=go\.example\.org\/lib$/m);
    assert.match(text, /^machine 127\.0\.0\.1 login alice password TOKEN$/m);
    assert.match(text, /^machine 127\.0\.0\.1:8443 login alice password TOKEN$/m);
    assert.match(text, /GOAUTH/);
  });

  test('a group, at an external URL: one GOPROXY, every module root of its projects', () => {
    const text = clientSetup(config, { group: 'acme', url: 'https://go.example.com' });
    assert.match(text, /^go env -w GOPROXY=https:\/\/go\.example\.com\/api\/v4\/groups\/acme\/-\/packages\/go,/m);
    assert.match(text, /^go env -w GONOSUMDB=gitlab\.example\.com\/acme\/platform\/core,go\.example\.org\/lib$/m);
    assert.match(text, /^machine go\.example\.com login USERNAME password TOKEN$/m);
    assert.doesNotMatch(text, /machine go\.example\.com:/);
    assert.throws(() => clientSetup(config, { group: 'nope' }), /no group "nope"/);
    assert.throws(() => clientSetup(config, {}), /one of --project or --group/);
  });
});
