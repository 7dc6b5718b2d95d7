import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import express from 'express';
import { createGoProxyRouter } from '../../routes/go-proxy.js';
import type { Principal, Project } from '../../src/service/stores.js';
import { makeBareRepository, makeTempDir, standardHistory } from './fixtures.js';

/**
 * Mounted in a host that runs the OpenTelemetry SDK itself: the router's spans join the host's
 * traces, under the host's own span for the request, with no option to set.
 */

const MODULE = 'gitlab.example.com/acme/widgets';
const TOKEN = 'glpat-mountedTracing0000';

let tmp: { dir: string; remove(): Promise<void> };
let server: Server;
let base: string;
const exporter = new InMemorySpanExporter();

before(async () => {
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register();
  tmp = await makeTempDir('gitlab-go-proxy-mounted-tracing-');
  const gitdir = path.join(tmp.dir, 'widgets.git');
  await makeBareRepository(gitdir, standardHistory(MODULE));
  const project: Project = { id: 7, fullPath: 'acme/widgets', visibility: 'private', gitdir };
  const app = express();
  const hostTracer = trace.getTracer('host-app');
  // The host's own request span, as its HTTP instrumentation would make.
  app.use((_req, res, next) => {
    hostTracer.startActiveSpan('host request', (span) => {
      res.once('close', () => span.end());
      next();
    });
  });
  app.use(
    createGoProxyRouter({
      modulePrefix: 'gitlab.example.com',
      projects: { findProject: (id: string) => (id === '7' ? project : null) },
      authenticate: ({ token }: { token: string }): Principal | null => (token === TOKEN ? { scopes: ['read_api'] } : null),
      canRead: () => true,
    }),
  );
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v4/projects/7/packages/go/${MODULE}/@v`;
});

after(async () => {
  server?.close();
  await tmp?.remove();
});

describe('OpenTelemetry tracing, mounted', () => {
  test("the router's spans are children of the host's request span, and carry no token", async () => {
    const res = await fetch(`${base}/v1.0.0.info`, { headers: { 'PRIVATE-TOKEN': TOKEN } });
    assert.equal(res.status, 200);
    await res.text();
    await new Promise<void>((resolve) => setImmediate(resolve));
    const spans = exporter.getFinishedSpans();
    const host = spans.find((s) => s.name === 'host request');
    assert.ok(host, 'the host span ended');
    const traceId = host.spanContext().traceId;
    const names = spans.filter((s) => s.spanContext().traceId === traceId).map((s) => s.name);
    for (const name of ['goproxy.request', 'goproxy.auth', 'goproxy.info', 'goproxy.refs', 'goproxy.cache']) {
      assert.ok(names.includes(name), `${name} in the host's trace (got ${names.join(', ')})`);
    }
    const request = spans.find((s) => s.name === 'goproxy.request');
    assert.equal(request?.parentSpanContext?.spanId, host.spanContext().spanId);
    assert.ok(!JSON.stringify(spans.map((s) => s.attributes)).includes(TOKEN));
  });
});
