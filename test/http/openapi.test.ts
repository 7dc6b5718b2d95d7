import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { parse } from 'yaml';
import { createGoProxyRouter, GO_PROXY_REFRESH_ROUTE, GO_PROXY_ROUTES, GO_PROXY_WARM_ROUTE } from '../../routes/go-proxy.js';
import { GO_GROUP_PROXY_ROUTES } from '../../routes/group-proxy.js';
import { OPERATIONS_ROUTES } from '../../routes/health.js';
import type { ModuleService } from '../../src/service/module-service.js';
import type { ProjectServices } from '../../src/service/project-services.js';
import type { ProxyRequestKind } from '../../src/service/proxy-path.js';
import { scriptedServices } from './fixtures.js';

/**
 * openapi.yaml parses, documents every route the router serves (and nothing else), and every
 * documented GOPROXY path reaches the endpoint it names on a real router.
 */

// dist/test/http → the package root, where openapi.yaml lives next to package.json.
const OPENAPI = fileURLToPath(new URL('../../../openapi.yaml', import.meta.url));
const METHODS = ['get', 'head'] as const;

interface Operation {
  operationId?: string;
  tags?: string[];
  responses?: Record<string, unknown>;
}
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Partial<Record<(typeof METHODS)[number] | 'post', Operation>>>;
  components: { securitySchemes: Record<string, { type: string; scheme?: string; in?: string; name?: string }> };
}

let doc: OpenApiDocument;

before(async () => {
  doc = parse(await readFile(OPENAPI, 'utf8')) as OpenApiDocument;
});

describe('openapi.yaml', () => {
  test('is OpenAPI 3.1', () => {
    assert.match(doc.openapi, /^3\.1\.\d+$/);
  });

  test('documents exactly the routes served: the GOPROXY routes of projects and groups, warm, the health endpoints and /metrics', () => {
    const served = [
      ...Object.values(GO_PROXY_ROUTES),
      ...Object.values(GO_GROUP_PROXY_ROUTES),
      GO_PROXY_WARM_ROUTE,
      GO_PROXY_REFRESH_ROUTE,
      ...OPERATIONS_ROUTES,
    ].sort();
    assert.deepEqual(Object.keys(doc.paths).sort(), served);
  });

  for (const route of [...Object.values(GO_PROXY_ROUTES), ...Object.values(GO_GROUP_PROXY_ROUTES)]) {
    test(`${route}: GET and HEAD with 200, 304, 400, 401, 404, 429 and 500`, () => {
      for (const method of METHODS) {
        const operation = doc.paths[route]?.[method];
        assert.ok(operation, `${method.toUpperCase()} ${route}`);
        assert.deepEqual(Object.keys(operation.responses ?? {}).sort(), ['200', '304', '400', '401', '404', '429', '500']);
      }
    });
  }

  test('warm: POST with 202, 400, 401, 404, 409, 429 and 500', () => {
    const operation = doc.paths[GO_PROXY_WARM_ROUTE]?.post;
    assert.ok(operation);
    assert.deepEqual(Object.keys(operation.responses ?? {}).sort(), ['202', '400', '401', '404', '409', '429', '500']);
  });

  test('the monitoring endpoints: GET and HEAD with 200 and 404 (the allow-list), readiness also 503', () => {
    for (const route of OPERATIONS_ROUTES) {
      const statuses = route === '/-/readiness' ? ['200', '404', '503'] : ['200', '404'];
      for (const method of METHODS)
        assert.deepEqual(Object.keys(doc.paths[route]?.[method]?.responses ?? {}), statuses, `${method} ${route}`);
    }
  });

  test('every operation has an id and a declared tag', () => {
    const declared = new Set((doc as unknown as { tags: { name: string }[] }).tags.map((t) => t.name));
    for (const [route, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (!['get', 'head', 'post'].includes(method)) continue;
        assert.ok(operation?.operationId, `${method} ${route}: operationId`);
        assert.ok(operation.tags?.length && operation.tags.every((t) => declared.has(t)), `${method} ${route}: tags`);
      }
    }
  });

  test('operation ids are unique', () => {
    const ids = Object.values(doc.paths).flatMap((item) =>
      ([...METHODS, 'post'] as const).map((m) => item[m]?.operationId).filter(Boolean),
    );
    assert.equal(new Set(ids).size, ids.length);
  });

  test('the three credential forms are described', () => {
    const schemes = Object.values(doc.components.securitySchemes);
    assert.ok(schemes.some((s) => s.type === 'http' && s.scheme === 'basic'));
    assert.ok(schemes.some((s) => s.type === 'http' && s.scheme === 'bearer'));
    assert.ok(schemes.some((s) => s.type === 'apiKey' && s.in === 'header' && s.name === 'PRIVATE-TOKEN'));
  });

  test('every $ref points at something', () => {
    const refs: string[] = [];
    (function collect(node: unknown): void {
      if (Array.isArray(node)) node.forEach(collect);
      else if (node && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          if (key === '$ref' && typeof value === 'string') refs.push(value);
          else collect(value);
        }
      }
    })(doc);
    for (const ref of refs) {
      const target = ref
        .replace(/^#\//, '')
        .split('/')
        .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc);
      assert.ok(target, `${ref} resolves`);
    }
  });
});

describe('documented paths reach their endpoint', () => {
  const seen: ProxyRequestKind[] = [];
  let server: Server;
  let base: string;

  before(async () => {
    const app = express();
    app.use(
      createGoProxyRouter({
        modulePrefix: 'gitlab.example.com',
        projects: {
          findProject: (id) => (id === '1' ? { id: 1, fullPath: 'group/project', visibility: 'public', gitdir: '/nonexistent' } : null),
        },
        authenticate: () => null,
        canRead: () => false,
        services: recordingServices(seen),
      }),
    );
    server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  for (const [kind, route] of Object.entries(GO_PROXY_ROUTES) as [ProxyRequestKind, string][]) {
    test(`GET ${route} → ${kind}`, async () => {
      const url = route.replace('{id}', '1').replace('{module}', 'gitlab.example.com/group/project').replace('{version}', 'v1.0.0');
      const res = await fetch(`${base}${url}`);
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      assert.equal(seen.at(-1), kind);
    });
  }
});

describe('every status POST …/-/warm answers is documented', () => {
  const answered = new Set<string>();
  let server: Server;
  let base: string;

  before(async () => {
    const hooks = {
      modulePrefix: 'gitlab.example.com',
      projects: {
        findProject: (id: string) => {
          if (id === 'boom') throw new Error('the host database is down');
          return id === '1' ? { id: 1, fullPath: 'group/project', visibility: 'private' as const, gitdir: '/nonexistent' } : null;
        },
      },
      authenticate: ({ token }: { token: string }) =>
        token === 'api' ? { scopes: ['api'] } : token === 'read' ? { scopes: ['read_api'] } : null,
      canRead: () => true,
    };
    const app = express();
    // One router with services (warming allowed), one without a disk cache (409).
    app.use('/cached', createGoProxyRouter({ ...hooks, services: recordingServices([]) }));
    app.use('/uncached', createGoProxyRouter(hooks));
    server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const cases: [string, string, string | null, number][] = [
    ['started', '/cached', 'api', 202],
    ['no credentials', '/cached', null, 401],
    ['read_api only', '/cached', 'read', 404],
    ['unknown token', '/cached', 'nope', 404],
    ['bad :id escape', '/cached', 'api', 400],
    ['a hook that throws', '/cached', 'api', 500],
    ['no cache.dir', '/uncached', 'api', 409],
  ];
  for (const [what, mount, token, status] of cases) {
    test(`${what} → ${status}`, async () => {
      const id = what === 'bad :id escape' ? '%ZZ' : what === 'a hook that throws' ? 'boom' : '1';
      const res = await fetch(`${base}${mount}${GO_PROXY_WARM_ROUTE.replace('{id}', id)}`, {
        method: 'POST',
        headers: token ? { 'PRIVATE-TOKEN': token } : {},
      });
      await res.arrayBuffer();
      assert.equal(res.status, status);
      answered.add(String(res.status));
    });
  }

  test('the documented statuses are exactly those (429 comes from the standalone server: floods.test.ts)', () => {
    const documented = Object.keys(doc.paths[GO_PROXY_WARM_ROUTE]?.post?.responses ?? {}).filter((status) => status !== '429');
    assert.deepEqual([...answered].sort(), documented.sort());
  });
});

/** A ModuleService that records which endpoint was called and answers with fixed content. */
function recordingServices(seen: ProxyRequestKind[]): ProjectServices {
  const info = { Version: 'v1.0.0', Time: '2024-01-01T00:00:00Z' };
  const service: ModuleService = {
    list: async () => {
      seen.push('list');
      return ['v1.0.0'];
    },
    info: async () => {
      seen.push('info');
      return info;
    },
    goMod: async () => {
      seen.push('mod');
      return Buffer.from('module gitlab.example.com/group/project\n');
    },
    zip: async () => {
      seen.push('zip');
      return { etag: 'stub', size: 2, open: () => Readable.from([Buffer.from('PK')]) };
    },
    latest: async () => {
      seen.push('latest');
      return info;
    },
  };
  return scriptedServices(service);
}
