import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startServer } from '../../routes/server.js';
import { parseServerConfig, type ServerConfig } from '../../src/config.js';
import { credentialHeaders, makeBareRepository, makeTempDir, standardHistory, TOKENS, usersConfig } from './fixtures.js';

/**
 * `monitoring.tracing` in the standalone server: spans reach an OTLP/HTTP endpoint (the exporter
 * the server really uses, posting to a listener that records what arrives, as a collector would
 * receive it), one trace per request with auth, refs, cache, plan and build under the request span,
 * and nothing secret in them.
 */

const PREFIX = 'gitlab.example.com';
const PRIVATE = { id: 3, path: 'group/project' };

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
}

let tmp: { dir: string; remove(): Promise<void> };
let collector: Server;
let collectorUrl: string;
const bodies: string[] = [];
let received: () => void = () => {};

before(async () => {
  tmp = await makeTempDir('gitlab-go-proxy-tracing-');
  await makeBareRepository(path.join(tmp.dir, 'repos', `${PRIVATE.path}.git`), standardHistory(`${PREFIX}/${PRIVATE.path}`));
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      assert.equal(req.url, '/v1/traces');
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      received();
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;
});

after(async () => {
  collector?.close();
  await tmp?.remove();
});

function configFor(tracing: unknown): ServerConfig {
  return parseServerConfig(
    {
      server: { host: '127.0.0.1', port: 0 },
      modulePrefix: PREFIX,
      projects: [{ id: PRIVATE.id, path: PRIVATE.path, repository: `repos/${PRIVATE.path}.git`, visibility: 'private' }],
      users: usersConfig(PRIVATE.id),
      cache: { dir: 'cache' },
      monitoring: { tracing },
    },
    { file: 'tracing.test config', baseDir: tmp.dir },
  );
}

function spansOf(bodyTexts: readonly string[]): OtlpSpan[] {
  const spans: OtlpSpan[] = [];
  for (const text of bodyTexts) {
    const body = JSON.parse(text) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
    for (const r of body.resourceSpans) for (const s of r.scopeSpans) spans.push(...s.spans);
  }
  return spans;
}

describe('OpenTelemetry tracing, standalone', () => {
  test('a zip request is one trace: request → auth, zip → refs, cache, plan; the build span sent on close; no secret in any span', async () => {
    const server = await startServer(configFor({ url: collectorUrl, serviceName: 'proxy-under-test' }));
    const base = `${server.url}/api/v4/projects/${PRIVATE.id}/packages/go/${PREFIX}/${PRIVATE.path}/@v`;
    const zip = await fetch(`${base}/v1.0.0.zip`, { headers: credentialHeaders('basic', TOKENS.alice) });
    assert.equal(zip.status, 200);
    await zip.arrayBuffer();
    const refused = await fetch(`${base}/list?private_token=${TOKENS.unknown}`);
    assert.equal(refused.status, 404);
    const arrived = new Promise<void>((resolve) => (received = resolve));
    await server.close();
    // close() shuts the provider down, which flushes every queued span.
    if (bodies.length === 0) await arrived;

    const text = bodies.join('\n');
    assert.match(text, /proxy-under-test/);
    for (const secret of Object.values(TOKENS)) assert.ok(!text.includes(secret), 'a token reached a span');
    assert.ok(!text.includes(tmp.dir) && !text.includes('repos/'), 'a repository path reached a span');

    const spans = spansOf(bodies);
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const requests = spans.filter((s) => s.name === 'goproxy.request');
    assert.equal(requests.length, 2);
    const attr = (s: OtlpSpan, key: string) => s.attributes?.find((a) => a.key === key)?.value;
    const zipRequest = requests.find((s) => attr(s, 'goproxy.kind')?.['stringValue'] === 'zip');
    assert.ok(zipRequest, 'the zip request span carries its kind');
    assert.deepEqual(attr(zipRequest, 'http.response.status_code'), { intValue: 200 });
    const inZipTrace = spans.filter((s) => s.traceId === zipRequest.traceId);
    const parentName = (s: OtlpSpan) => (s.parentSpanId ? byId.get(s.parentSpanId)?.name : undefined);
    const named = (name: string) => inZipTrace.filter((s) => s.name === name);
    assert.equal(parentName(named('goproxy.auth')[0] as OtlpSpan), 'goproxy.request');
    assert.equal(parentName(named('goproxy.zip')[0] as OtlpSpan), 'goproxy.request');
    for (const child of ['goproxy.refs', 'goproxy.plan']) {
      assert.ok(named(child).length >= 1, `${child} in the zip trace`);
      assert.equal(parentName(named(child)[0] as OtlpSpan), 'goproxy.zip', `${child} under goproxy.zip`);
    }
    const caches = named('goproxy.cache').map((s) => attr(s, 'goproxy.cache.artifact')?.['stringValue']);
    assert.deepEqual(caches.sort(), ['pin', 'zip']);
    const build = named('goproxy.build')[0];
    assert.ok(build, 'the build span is in the trace');
    assert.deepEqual(attr(build, 'goproxy.build.outcome'), { stringValue: 'built' });

    const refusedRequest = requests.find((s) => s !== zipRequest) as OtlpSpan;
    const refusedAuth = spans.find((s) => s.name === 'goproxy.auth' && s.traceId === refusedRequest.traceId);
    assert.deepEqual(refusedAuth && attr(refusedAuth, 'goproxy.error.kind'), { stringValue: 'forbidden' });
  });

  test('a tracing URL that is not http(s) is refused with the key named', () => {
    assert.throws(() => configFor({ url: 'ftp://collector/v1/traces' }), /monitoring\.tracing\.url/);
  });
});
