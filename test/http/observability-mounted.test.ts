import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import { pino } from 'pino';
import { register as globalRegistry, Registry } from 'prom-client';
import type { DownloadEvent } from '../../routes/download-audit.js';
import { createGoProxyRouter } from '../../routes/go-proxy.js';
import type { Logger } from '../../src/logger.js';
import { createProjectServices } from '../../src/service/project-services.js';
import type { Principal, Project } from '../../src/service/stores.js';
import { metricValue, parseMetrics } from '../helpers/prometheus.js';
import { makeBareRepository, makeTempDir, standardHistory } from './fixtures.js';

/**
 * Mounted in a host app: metrics in the host's Registry (never the global one), `onDownload`
 * events with the right fields, a pino logger getting a child per request while the minimal
 * logger interface keeps working, and nosniff on the router's answers only.
 */

const MODULE = 'gitlab.example.com/acme/widgets';
const TOKEN = 'glpat-mountedObservability0';

interface HostUser extends Principal {
  login: string;
}

let tmp: { dir: string; remove(): Promise<void> };
let project: Project;
const servers: Server[] = [];

before(async () => {
  tmp = await makeTempDir('gitlab-go-proxy-mounted-observability-');
  const gitdir = path.join(tmp.dir, 'widgets.git');
  await makeBareRepository(gitdir, standardHistory(MODULE));
  project = { id: 7, fullPath: 'acme/widgets', visibility: 'private', gitdir };
});

after(async () => {
  for (const s of servers) s.close();
  await tmp?.remove();
});

function hooks() {
  return {
    modulePrefix: 'gitlab.example.com',
    projects: { findProject: (id: string) => (id === '7' || id === 'acme/widgets' ? project : null) },
    authenticate: ({ token }: { token: string }): HostUser | null => (token === TOKEN ? { login: 'alice', scopes: ['read_api'] } : null),
    canRead: () => true,
  };
}

async function listen(app: express.Express): Promise<string> {
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function memoryLines(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(line);
      callback();
    },
  });
  return { lines, stream };
}

const auth = { 'PRIVATE-TOKEN': TOKEN };

describe('mounted: metrics in the host Registry', () => {
  test('the goproxy_ metrics land in the host registry, beside its own, and never in the global one', async () => {
    const registry = new Registry();
    const hostCounter = new (await import('prom-client')).Counter({ name: 'host_requests_total', help: 'the host', registers: [registry] });
    hostCounter.inc();
    const services = createProjectServices({
      modulePrefix: 'gitlab.example.com',
      cache: { dir: path.join(tmp.dir, 'cache-a') },
      metrics: registry,
    });
    const app = express();
    // Two routers over one registry and one set of services: one set of metrics, no "already registered".
    app.use(createGoProxyRouter({ ...hooks(), services, metrics: registry, cache: { dir: path.join(tmp.dir, 'cache-a') } }));
    app.use('/mirror', createGoProxyRouter({ ...hooks(), services, metrics: registry }));
    const base = await listen(app);
    const zip = await fetch(`${base}/api/v4/projects/7/packages/go/${MODULE}/@v/v1.0.0.zip`, { headers: auth });
    assert.equal(zip.status, 200);
    await zip.arrayBuffer();
    assert.equal(
      (await fetch(`${base}/mirror/api/v4/projects/7/packages/go/${MODULE}/@v/list`, { headers: { 'PRIVATE-TOKEN': 'wrong' } })).status,
      404,
    );
    let m = parseMetrics(await registry.metrics());
    // The build and the request are counted when their streams close, just after the last byte.
    const settled = (): boolean =>
      metricValue(m, 'goproxy_zip_builds_total', { outcome: 'built' }) === 1 &&
      metricValue(m, 'goproxy_http_request_duration_seconds_count', { kind: 'zip' }) === 1;
    for (let i = 0; i < 100 && !settled(); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      m = parseMetrics(await registry.metrics());
    }
    assert.equal(metricValue(m, 'host_requests_total'), 1);
    assert.equal(
      metricValue(m, 'goproxy_http_request_duration_seconds_count', { kind: 'zip', endpoint: 'project', status_class: '2xx' }),
      1,
    );
    assert.equal(metricValue(m, 'goproxy_http_request_duration_seconds_count', { kind: 'list', status_class: '4xx' }), 1);
    assert.equal(metricValue(m, 'goproxy_auth_failures_total', { reason: 'invalid' }), 1);
    assert.equal(metricValue(m, 'goproxy_cache_lookups_total', { artifact: 'zip', result: 'miss' }), 1);
    assert.equal(metricValue(m, 'goproxy_zip_builds_total', { outcome: 'built' }), 1);
    assert.equal(metricValue(m, 'goproxy_open_repositories'), 1, 'the shared services counted once');
    assert.equal((await globalRegistry.metrics()).includes('goproxy_'), false);
    await services.close();
  });

  test('a registry that is not one is refused when the router is created', () => {
    assert.throws(() => createGoProxyRouter({ ...hooks(), metrics: {} as Registry }), /metrics: expected a prom-client Registry/);
  });
});

describe('mounted: onDownload', () => {
  test('one event per zip or mod served in full, with project, module, version, principal, client, bytes and cache state', async () => {
    const events: DownloadEvent[] = [];
    const app = express();
    app.use(
      createGoProxyRouter<HostUser>({
        ...hooks(),
        cache: { dir: path.join(tmp.dir, 'cache-b') },
        onDownload: (event) => {
          events.push(event);
        },
        principalName: (user) => user.login,
      }),
    );
    const base = await listen(app);
    const url = (rest: string): string => `${base}/api/v4/projects/acme%2Fwidgets/packages/go/${MODULE}/@v/${rest}`;
    const first = await fetch(url('v1.1.0.zip'), { headers: { ...auth, 'X-Request-Id': 'zip-1' } });
    const size = (await first.arrayBuffer()).byteLength;
    const second = await fetch(url('v1.1.0.zip'), { headers: auth });
    await second.arrayBuffer();
    assert.equal((await fetch(url('v1.1.0.zip'), { method: 'HEAD', headers: auth })).status, 200);
    assert.equal((await fetch(url('v1.1.0.zip'), { headers: { ...auth, 'If-None-Match': first.headers.get('etag')! } })).status, 304);
    const mod = await fetch(url('v1.1.0.mod'), { headers: auth });
    const modText = await mod.text();
    assert.equal((await fetch(url('v9.9.9.mod'), { headers: auth })).status, 404);

    assert.deepEqual(
      events.map((e) => [e.artifact, e.cache]),
      [
        ['zip', 'build'],
        ['zip', 'hit'],
        ['mod', 'build'],
      ],
    );
    const [zip] = events;
    assert.equal(zip!.event, 'download');
    assert.equal(zip!.project, 7);
    assert.equal(zip!.module, MODULE);
    assert.equal(zip!.version, 'v1.1.0');
    assert.equal(zip!.principal, 'alice');
    assert.match(zip!.client ?? '', /127\.0\.0\.1$/);
    assert.equal(zip!.bytes, size);
    assert.equal(zip!.requestId, 'zip-1');
    assert.ok(!Number.isNaN(Date.parse(zip!.time)));
    assert.equal(events[1]!.bytes, size);
    assert.equal(events[2]!.bytes, Buffer.byteLength(modText));
  });

  test('a public project read without credentials is anonymous; a hook that throws or rejects changes nothing for the client', async () => {
    const warnings: unknown[] = [];
    const logger: Logger = { debug: () => {}, info: () => {}, warn: (o) => warnings.push(o), error: () => {} };
    const calls: string[] = [];
    const app = express();
    app.use(
      createGoProxyRouter({
        ...hooks(),
        projects: { findProject: () => ({ ...project, visibility: 'public' }) },
        logger,
        onDownload: (event) => {
          calls.push(event.principal);
          if (calls.length === 1) throw new Error('the host database is down');
          return Promise.reject(new Error('still down'));
        },
      }),
    );
    const base = await listen(app);
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${base}/api/v4/projects/7/packages/go/${MODULE}/@v/v1.0.0.mod`);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /^module /);
    }
    for (let i = 0; i < 50 && warnings.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(calls, ['anonymous', 'anonymous']);
    assert.equal(warnings.length, 2);
    assert.ok(JSON.stringify(warnings).includes('"op":"onDownload"'));
    assert.ok(!JSON.stringify(warnings).includes('database'), 'kind and code only, never the message');
  });
});

describe('mounted: loggers', () => {
  test('a pino logger gets a child per request: every line of the request carries its id', async () => {
    const { lines, stream } = memoryLines();
    const app = express();
    app.use(createGoProxyRouter({ ...hooks(), logger: pino({ level: 'debug' }, stream) }));
    const base = await listen(app);
    await fetch(`${base}/api/v4/projects/7/packages/go/${MODULE}/@v/list`, {
      headers: { 'PRIVATE-TOKEN': 'wrong', 'X-Request-Id': 'host-42' },
    });
    const mine = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e['reqId'] === 'host-42');
    assert.deepEqual(mine.map((e) => e['msg']).sort(), ['credentials refused', 'request', 'request refused']);
    assert.ok(!lines.some((l) => l.includes('glpat-wrongToken')), 'no token in any line');
  });

  test('the minimal logger interface (no child) keeps working: the request id is a field of the line', async () => {
    const infos: Record<string, unknown>[] = [];
    const logger: Logger = { debug: () => {}, info: (o) => infos.push(o as Record<string, unknown>), warn: () => {}, error: () => {} };
    const app = express();
    app.get('/host', (_req, res) => {
      res.send('host');
    });
    app.use(createGoProxyRouter({ ...hooks(), logger }));
    const base = await listen(app);
    const res = await fetch(`${base}/api/v4/projects/7/packages/go/${MODULE}/@v/list`, { headers: auth });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const line = infos.find((o) => o['reqId'] === res.headers.get('x-request-id'));
    assert.ok(line);
    assert.equal(line['kind'], 'list');
    assert.equal(line['project'], 7);
    // The host's own routes are the host's: no request id, no header of ours.
    const host = await fetch(`${base}/host`);
    assert.equal(host.headers.get('x-request-id'), null);
    assert.equal(host.headers.get('x-content-type-options'), null);
  });
});
