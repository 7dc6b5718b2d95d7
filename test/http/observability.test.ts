import assert from 'node:assert/strict';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { register as globalRegistry } from 'prom-client';
import { type RunningServer, startServer } from '../../routes/server.js';
import { parseServerConfig, type ServerConfig } from '../../src/config.js';
import { tokenSha256 } from '../../src/config-stores.js';
import { createPinoLogger } from '../../src/observability/log.js';
import { AUTH_FAILURE_REASONS, ENDPOINTS, REQUEST_KINDS } from '../../src/observability/metrics.js';
import { metricValue, parseMetrics, type Sample } from '../helpers/prometheus.js';
import { credentialHeaders, makeBareRepository, makeTempDir, standardHistory, TOKENS, usersConfig } from './fixtures.js';

/**
 * The standalone server as an operator watches it: /metrics after real requests, one JSON log
 * line per request with its id and no credential, the health endpoints and their allow-list,
 * readiness during shutdown, and the security headers.
 */

const PREFIX = 'gitlab.example.com';
const PUBLIC = { id: 1, path: 'group/public' };
const PRIVATE = { id: 3, path: 'group/project' };
const MONITORING_TOKEN = 'monitoring-secret-0123456789';

let tmp: { dir: string; remove(): Promise<void> };
const lines: string[] = [];
const logStream = new Writable({
  write(chunk: Buffer, _encoding, callback) {
    for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(line);
    callback();
  },
});
const servers: RunningServer[] = [];

function configFor(extra: Record<string, unknown> = {}, projects?: unknown[]): ServerConfig {
  return parseServerConfig(
    {
      server: { host: '127.0.0.1', port: 0 },
      modulePrefix: PREFIX,
      projects: projects ?? [
        { id: PUBLIC.id, path: PUBLIC.path, repository: `repos/${PUBLIC.path}.git`, visibility: 'public' },
        { id: PRIVATE.id, path: PRIVATE.path, repository: `repos/${PRIVATE.path}.git`, visibility: 'private' },
      ],
      users: projects ? [] : usersConfig(PRIVATE.id),
      cache: { dir: 'cache' },
      ...extra,
    },
    { file: 'observability.test config', baseDir: tmp.dir },
  );
}

async function start(config: ServerConfig, options: { drainMs?: number } = {}): Promise<RunningServer> {
  const server = await startServer(config, { logger: createPinoLogger({ level: 'debug', format: 'json', stream: logStream }), ...options });
  servers.push(server);
  return server;
}

let server: RunningServer;

before(async () => {
  tmp = await makeTempDir('gitlab-go-proxy-observability-');
  for (const { path: p } of [PUBLIC, PRIVATE]) {
    await makeBareRepository(path.join(tmp.dir, 'repos', `${p}.git`), standardHistory(`${PREFIX}/${p}`));
  }
  server = await start(configFor());
});

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await tmp?.remove();
});

const moduleUrl = (s: RunningServer, project: { id: number; path: string }, rest: string): string =>
  `${s.url}/api/v4/projects/${project.id}/packages/go/${PREFIX}/${project.path}/${rest}`;

async function scrape(s: RunningServer = server): Promise<Sample[]> {
  const res = await fetch(`${s.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parseMetrics(await res.text());
}

/** Scrapes until `ready` holds (a build is counted when its stream closes, just after the answer ends). */
async function scrapeUntil(ready: (m: Sample[]) => boolean): Promise<Sample[]> {
  for (let i = 0; ; i++) {
    const m = await scrape();
    if (ready(m) || i === 100) return m;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const DURATION = 'goproxy_http_request_duration_seconds';

describe('/metrics after real requests', () => {
  test('a zip miss then a hit: lookups, one build with its bytes, two observations in the histogram', async () => {
    const before = await scrape();
    const zipUrl = moduleUrl(server, PUBLIC, '@v/v1.0.0.zip');
    const first = await fetch(zipUrl);
    assert.equal(first.status, 200);
    const size = (await first.arrayBuffer()).byteLength;
    const afterMiss = await scrapeUntil(
      (m) =>
        metricValue(m, 'goproxy_zip_builds_total', { outcome: 'built' }) >
        metricValue(before, 'goproxy_zip_builds_total', { outcome: 'built' }),
    );
    const second = await fetch(zipUrl);
    assert.equal(second.status, 200);
    assert.equal((await second.arrayBuffer()).byteLength, size);
    // A request is observed when its response closes, a moment after the client has the last byte.
    const zipCount = (m: Sample[]): number => metricValue(m, `${DURATION}_count`, { kind: 'zip', status_class: '2xx' });
    const afterHit = await scrapeUntil((m) => zipCount(m) - zipCount(before) >= 2);

    const delta = (m: Sample[], name: string, labels: Record<string, string> = {}): number =>
      metricValue(m, name, labels) - metricValue(before, name, labels);
    assert.equal(delta(afterMiss, 'goproxy_cache_lookups_total', { artifact: 'zip', result: 'miss' }), 1);
    assert.equal(delta(afterMiss, 'goproxy_cache_lookups_total', { artifact: 'zip', result: 'hit' }), 0);
    assert.equal(delta(afterMiss, 'goproxy_zip_builds_total', { outcome: 'built' }), 1);
    assert.equal(delta(afterMiss, 'goproxy_zip_build_bytes_total'), size);
    assert.equal(delta(afterMiss, 'goproxy_zip_build_duration_seconds_count', { outcome: 'built' }), 1);
    assert.equal(delta(afterHit, 'goproxy_cache_lookups_total', { artifact: 'zip', result: 'hit' }), 1);
    assert.equal(delta(afterHit, 'goproxy_zip_builds_total'), 1, 'the hit built nothing');

    const zip2xx = { kind: 'zip', endpoint: 'project', status_class: '2xx' };
    assert.equal(delta(afterHit, `${DURATION}_count`, zip2xx), 2);
    assert.equal(delta(afterHit, `${DURATION}_bucket`, { ...zip2xx, le: '+Inf' }), 2);
    assert.equal(delta(afterHit, 'goproxy_http_response_bytes_total', { kind: 'zip', endpoint: 'project' }), 2 * size);
    // Buckets are cumulative: each observation moved every bucket from its own upward.
    const buckets = afterHit.filter(
      (s) => s.name === `${DURATION}_bucket` && s.labels['kind'] === 'zip' && s.labels['status_class'] === '2xx',
    );
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]!.value >= buckets[i - 1]!.value, 'cumulative buckets');
  });

  test('go.mod and pins: a miss, then a hit from memory', async () => {
    const before = await scrape();
    for (let i = 0; i < 2; i++) assert.equal((await fetch(moduleUrl(server, PUBLIC, '@v/v1.1.0.mod'))).status, 200);
    const modCount = (m: Sample[]): number => metricValue(m, `${DURATION}_count`, { kind: 'mod' });
    const after = await scrapeUntil((m) => modCount(m) - modCount(before) >= 2);
    const delta = (name: string, labels: Record<string, string>): number =>
      metricValue(after, name, labels) - metricValue(before, name, labels);
    assert.equal(delta('goproxy_cache_lookups_total', { artifact: 'mod', result: 'miss' }), 1);
    assert.equal(delta('goproxy_cache_lookups_total', { artifact: 'mod', result: 'hit' }), 1);
    assert.equal(delta('goproxy_cache_lookups_total', { artifact: 'pin', result: 'miss' }), 1);
    assert.equal(delta('goproxy_cache_lookups_total', { artifact: 'pin', result: 'hit' }), 1);
    assert.equal(delta('goproxy_downloads_total', { artifact: 'mod' }), 2);
  });

  test('auth failures by reason, and a 404 in the 4xx class of its kind', async () => {
    const before = await scrape();
    const list = moduleUrl(server, PRIVATE, '@v/list');
    assert.equal((await fetch(list)).status, 401);
    assert.equal((await fetch(list, { headers: credentialHeaders('basic', TOKENS.unknown) })).status, 404);
    assert.equal((await fetch(list, { headers: credentialHeaders('private-token', TOKENS.wrongScope) })).status, 404);
    assert.equal((await fetch(list, { headers: credentialHeaders('bearer', TOKENS.bob) })).status, 404);
    assert.equal(
      (
        await fetch(`${server.url}/api/v4/projects/77/packages/go/${PREFIX}/x/y/@v/list`, {
          headers: credentialHeaders('bearer', TOKENS.alice),
        })
      ).status,
      404,
    );
    assert.equal((await fetch(moduleUrl(server, PUBLIC, '@v/v9.9.9.info'))).status, 404);
    const infoCount = (m: Sample[]): number => metricValue(m, `${DURATION}_count`, { kind: 'info', status_class: '4xx' });
    const after = await scrapeUntil((m) => infoCount(m) - infoCount(before) >= 1);
    const delta = (name: string, labels: Record<string, string>): number =>
      metricValue(after, name, labels) - metricValue(before, name, labels);
    for (const reason of ['missing', 'invalid', 'scope', 'no-access', 'unknown-project']) {
      assert.equal(delta('goproxy_auth_failures_total', { reason }), 1, reason);
    }
    assert.equal(delta(`${DURATION}_count`, { kind: 'list', status_class: '4xx' }), 5);
    assert.equal(delta(`${DURATION}_count`, { kind: 'info', endpoint: 'project', status_class: '4xx' }), 1);
  });

  test('gauges of the fleet, Node default metrics, and nothing in prom-client global registry', async () => {
    const m = await scrape();
    assert.ok(metricValue(m, 'goproxy_open_repositories') >= 1);
    assert.ok(metricValue(m, 'goproxy_memory_pool_bytes') > 0);
    assert.ok(m.some((s) => s.name === 'process_cpu_user_seconds_total'));
    assert.ok(m.some((s) => s.name === 'nodejs_eventloop_lag_seconds'));
    assert.equal((await globalRegistry.metrics()).includes('goproxy_'), false);
  });

  test('no label carries client input: every value is from a fixed set', async () => {
    await fetch(`${server.url}/api/v4/projects/1/packages/go/${PREFIX}/evil%22label/@v/v1.0.0-evil.info`);
    await fetch(`${server.url}/some/unknown/path?x=1`);
    const fixed: Record<string, readonly string[]> = {
      kind: REQUEST_KINDS,
      endpoint: ENDPOINTS,
      status_class: ['1xx', '2xx', '3xx', '4xx', '5xx', 'other'],
      reason: AUTH_FAILURE_REASONS,
      artifact: ['zip', 'mod', 'pin'],
      result: ['hit', 'miss'],
      outcome: ['built', 'aborted', 'failed'],
    };
    for (const s of await scrape()) {
      if (!s.name.startsWith('goproxy_')) continue;
      for (const [label, value] of Object.entries(s.labels)) {
        if (label === 'le') continue;
        assert.ok(fixed[label]?.includes(value), `${s.name}{${label}="${value}"}`);
      }
    }
  });
});

describe('request logs', () => {
  test('an incoming X-Request-Id is echoed and logged; a missing or unusable one is replaced by a UUID', async () => {
    const given = await fetch(moduleUrl(server, PUBLIC, '@v/list'), { headers: { 'X-Request-Id': 'lb-4f2a.17' } });
    assert.equal(given.headers.get('x-request-id'), 'lb-4f2a.17');
    const none = await fetch(moduleUrl(server, PUBLIC, '@v/list'));
    assert.match(none.headers.get('x-request-id') ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-/);
    const bad = await fetch(moduleUrl(server, PUBLIC, '@v/list'), { headers: { 'X-Request-Id': 'has spaces and "quotes"' } });
    assert.match(bad.headers.get('x-request-id') ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-/);
    const line = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((e) => e['reqId'] === 'lb-4f2a.17' && e['msg'] === 'request');
    assert.ok(line, 'the request line carries the id');
    assert.equal(line['method'], 'GET');
    assert.equal(line['kind'], 'list');
    assert.equal(line['endpoint'], 'project');
    assert.equal(line['status'], 200);
    assert.equal(line['project'], PUBLIC.id);
    assert.equal(line['level'], 'info');
    assert.equal(typeof line['ms'], 'number');
    assert.equal(line['bytes'], Buffer.byteLength('v1.0.0\nv1.1.0\nv1.2.0-rc.1\n'));
  });

  test('a refused request logs its reason under its request id', async () => {
    await fetch(moduleUrl(server, PRIVATE, '@v/list'), {
      headers: { ...credentialHeaders('bearer', TOKENS.bob), 'X-Request-Id': 'refused-1' },
    });
    const mine = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e['reqId'] === 'refused-1');
    assert.ok(mine.some((e) => e['msg'] === 'credentials refused' && e['reason'] === 'no access to the project' && e['level'] === 'info'));
    assert.ok(mine.some((e) => e['msg'] === 'request' && e['status'] === 404));
  });

  test('every line is JSON and none holds a token, a Basic header or a repository path, at debug level', async () => {
    const url = moduleUrl(server, PRIVATE, '@v/v1.0.0.info');
    for (const token of Object.values(TOKENS)) {
      for (const scheme of ['basic', 'private-token', 'bearer'] as const) await fetch(url, { headers: credentialHeaders(scheme, token) });
      await fetch(`${url}?private_token=${token}&job_token=${token}`);
    }
    await fetch(`${server.url}/metrics?token=${MONITORING_TOKEN}`);
    const secrets = [
      ...Object.values(TOKENS),
      ...Object.values(TOKENS).map((t) => Buffer.from(`anyone:${t}`).toString('base64')),
      MONITORING_TOKEN,
      tmp.dir,
    ];
    assert.ok(lines.length > 50);
    for (const line of lines) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      assert.equal(typeof entry['time'], 'string');
      assert.equal(typeof entry['msg'], 'string');
      for (const secret of secrets) assert.ok(!line.includes(secret), `a secret in: ${line}`);
    }
    assert.ok(lines.some((l) => l.includes('private_token=[REDACTED]&job_token=[REDACTED]')));
  });

  test('a download is logged once per zip or mod served in full, with its principal and cache state', async () => {
    const url = moduleUrl(server, PRIVATE, '@v/v1.0.0.zip');
    const headers = { ...credentialHeaders('basic', TOKENS.alice), 'X-Request-Id': 'download-1' };
    const res = await fetch(url, { headers });
    const bytes = (await res.arrayBuffer()).byteLength;
    await fetch(url, { method: 'HEAD', headers: { ...headers, 'X-Request-Id': 'download-head' } });
    const events = () =>
      lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((e) => e['msg'] === 'download' && String(e['reqId']).startsWith('download-'));
    const [event, ...more] = events();
    assert.deepEqual(more, [], 'HEAD is no download');
    assert.ok(event);
    assert.equal(event['event'], 'download');
    assert.equal(event['project'], PRIVATE.id);
    assert.equal(event['module'], `${PREFIX}/${PRIVATE.path}`);
    assert.equal(event['version'], 'v1.0.0');
    assert.equal(event['artifact'], 'zip');
    assert.equal(event['principal'], 'alice');
    assert.match(String(event['client']), /127\.0\.0\.1$/);
    assert.equal(event['bytes'], bytes);
    assert.equal(event['cache'], 'build');
  });
});

describe('health, readiness and the allow-list', () => {
  test('liveness, readiness and health answer from loopback', async () => {
    for (const p of ['/-/liveness', '/-/health']) {
      const res = await fetch(`${server.url}${p}`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'OK\n');
      assert.equal(res.headers.get('cache-control'), 'no-store');
    }
    const ready = await fetch(`${server.url}/-/readiness`);
    assert.equal(ready.status, 200);
    assert.equal(await ready.text(), 'ready\nlifecycle: ok (serving)\nrepositories: ok (2 of 2 readable)\n');
  });

  test('outside the allow-list they are a plain 404, unless the monitoring token comes along', async () => {
    const guarded = await start(configFor({ monitoring: { allow: ['10.0.0.0/8'], tokenSha256: tokenSha256(MONITORING_TOKEN) } }));
    for (const p of ['/metrics', '/-/readiness', '/-/liveness', '/-/health']) {
      const res = await fetch(`${guarded.url}${p}`);
      assert.equal(res.status, 404, p);
      assert.equal(await res.text(), '404 Not Found\n');
      assert.equal((await fetch(`${guarded.url}${p}`, { headers: { Authorization: 'Bearer wrong' } })).status, 404);
      assert.equal((await fetch(`${guarded.url}${p}`, { headers: { Authorization: `Bearer ${MONITORING_TOKEN}` } })).status, 200, p);
      assert.equal((await fetch(`${guarded.url}${p}?token=${MONITORING_TOKEN}`)).status, 200, p);
    }
    assert.equal((await fetch(moduleUrl(guarded, PUBLIC, '@v/list'))).status, 200, 'the proxy itself is not behind it');
  });

  test('monitoring.metrics: false measures nothing: /metrics is the app 404, health still answers', async () => {
    const quiet = await start(configFor({ monitoring: { metrics: false } }));
    assert.equal((await fetch(moduleUrl(quiet, PUBLIC, '@v/list'))).status, 200);
    const res = await fetch(`${quiet.url}/metrics`);
    assert.equal(res.status, 404);
    assert.equal(await res.text(), '404 Not Found\n');
    assert.equal((await fetch(`${quiet.url}/-/readiness`)).status, 200);
  });

  test('readiness is 503 while the server drains on shutdown; liveness and the proxy still answer', async () => {
    const draining = await start(configFor(), { drainMs: 3000 });
    const closed = draining.close();
    const ready = await fetch(`${draining.url}/-/readiness`);
    assert.equal(ready.status, 503);
    assert.match(await ready.text(), /^not ready\nlifecycle: failed \(shutting-down\)\n/);
    assert.equal((await fetch(`${draining.url}/-/liveness`)).status, 200);
    assert.equal((await fetch(moduleUrl(draining, PUBLIC, '@v/list'))).status, 200);
    await closed;
    await assert.rejects(fetch(`${draining.url}/-/liveness`));
  });

  test('readiness is 503 when no configured repository can be read, naming project ids and never a path', async () => {
    const broken = await start(configFor({}, [{ id: 5, path: 'group/gone', repository: 'repos/group/gone.git', visibility: 'public' }]));
    const res = await fetch(`${broken.url}/-/readiness`);
    assert.equal(res.status, 503);
    const body = await res.text();
    assert.equal(body, 'not ready\nlifecycle: ok (serving)\nrepositories: failed (0 of 1 readable; cannot read project 5)\n');
  });
});

describe('security headers', () => {
  test('proxy answers, errors and the app 404 carry nosniff and a CSP that allows nothing, and no X-Powered-By', async () => {
    for (const url of [moduleUrl(server, PUBLIC, '@v/list'), moduleUrl(server, PUBLIC, '@v/v9.info'), `${server.url}/nothing`]) {
      const res = await fetch(url);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', url);
      assert.equal(res.headers.get('content-security-policy'), "default-src 'none';frame-ancestors 'none'", url);
      assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN');
      assert.equal(res.headers.get('x-powered-by'), null);
      assert.equal(res.headers.get('strict-transport-security'), null, 'plain HTTP sends no HSTS');
    }
  });
});
