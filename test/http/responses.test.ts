import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import { createGoProxyRouter } from '../../routes/go-proxy.js';
import { InternalError, NotFoundError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import type { ModuleService, ModuleZip } from '../../src/service/module-service.js';
import { scriptedServices } from './fixtures.js';

/**
 * Streaming and failure paths of the router, with a scripted ModuleService: the client going away
 * aborts the zip, HEAD never builds it, errors before and after the headers, and what gets logged.
 */

const MODULE = 'gitlab.example.com/group/project';
const SECRET_PATH = '/srv/git/secret/location.git';

interface Script {
  zip?: () => Promise<ModuleZip>;
  info?: () => Promise<{ Version: string; Time: string }>;
}

const script: Script = {};
const logs: { level: string; fields: unknown; msg: string | undefined }[] = [];
const logger: Logger = Object.fromEntries(
  (['debug', 'info', 'warn', 'error'] as const).map((level) => [
    level,
    (fields: unknown, msg?: string) => logs.push({ level, fields, msg }),
  ]),
) as unknown as Logger; // Object.fromEntries loses the key types; all four levels are there.

const service: ModuleService = {
  list: async () => ['v1.0.0'],
  info: (_m, _v) => (script.info ?? (async () => ({ Version: 'v1.0.0', Time: '2024-01-01T00:00:00Z' })))(),
  goMod: async () => Buffer.from('module x\n'),
  zip: () =>
    (
      script.zip ??
      (async () => {
        throw new NotFoundError('not scripted');
      })
    )(),
  latest: async () => ({ Version: 'v1.0.0', Time: '2024-01-01T00:00:00Z' }),
};

let server: http.Server;
let base: string;

before(async () => {
  const app = express();
  app.use(
    createGoProxyRouter({
      modulePrefix: 'gitlab.example.com',
      projects: { findProject: async () => ({ id: 1, fullPath: 'group/project', visibility: 'public', gitdir: SECRET_PATH }) },
      authenticate: async () => null,
      canRead: async () => false,
      logger,
      services: scriptedServices(service, { warm: async () => Promise.reject(new Error('not used')) }),
    }),
  );
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v4/projects/1/packages/go/${MODULE}`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('zip streaming', () => {
  test('HEAD answers from the metadata without opening the stream', async () => {
    let opened = false;
    script.zip = async () => ({
      etag: 'abc',
      size: 1234,
      open: () => {
        opened = true;
        return Readable.from([]);
      },
    });
    const res = await fetch(`${base}/@v/v1.0.0.zip`, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), '1234');
    assert.equal(res.headers.get('etag'), '"abc"');
    assert.equal(opened, false);
  });

  test('a client that goes away aborts the work behind the stream', async () => {
    let aborted!: () => void;
    const wasAborted = new Promise<void>((resolve) => (aborted = resolve));
    script.zip = async () => ({
      etag: '"slow"',
      size: null,
      open(signal) {
        signal?.addEventListener('abort', () => aborted());
        let sent = 0;
        // An endless, slow producer: only an abort ends it.
        return new Readable({
          read() {
            setTimeout(() => this.push(Buffer.alloc(16 * 1024, sent++ % 256)), 5);
          },
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      const req = http.get(`${base}/@v/v1.0.0.zip`, (res) => {
        assert.equal(res.statusCode, 200);
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
    });
    await wasAborted;
  });

  test('a stream that fails before its first byte gets a proper error answer', async () => {
    script.zip = async () => ({
      etag: '"x"',
      size: 10,
      open: () =>
        new Readable({
          read() {
            this.destroy(new NotFoundError('not found: zip has a case-insensitive file name collision'));
          },
        }),
    });
    const res = await fetch(`${base}/@v/v1.0.0.zip`);
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(res.headers.get('content-disposition'), null);
    assert.equal(await res.text(), 'not found: zip has a case-insensitive file name collision\n');
  });

  test('a stream that fails mid-body cuts the connection instead of sending a short zip', async () => {
    script.zip = async () => ({
      etag: '"y"',
      size: null,
      open: () =>
        Readable.from(
          (async function* () {
            yield Buffer.from('PK\x03\x04 first part');
            await new Promise((r) => setTimeout(r, 20));
            throw new InternalError('broken pack');
          })(),
        ),
    });
    const res = await fetch(`${base}/@v/v1.0.0.zip`);
    assert.equal(res.status, 200);
    await assert.rejects(res.arrayBuffer());
  });
});

describe('errors and logs', () => {
  test('an unexpected error is a generic 500, logged with its kind but not its message', async () => {
    logs.length = 0;
    script.info = async () => {
      throw new Error(`ENOENT: no such file ${SECRET_PATH}/objects/pack`);
    };
    const res = await fetch(`${base}/@v/v1.0.0.info`);
    assert.equal(res.status, 500);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await res.text(), '500 Internal Server Error\n');
    const errors = logs.filter((l) => l.level === 'error');
    assert.equal(errors.length, 1);
    assert.ok(!JSON.stringify(logs).includes(SECRET_PATH), JSON.stringify(logs));
    delete script.info;
  });

  test('an InternalError keeps its message out of the body', async () => {
    script.info = async () => {
      throw new InternalError(`corrupt object in ${SECRET_PATH}`);
    };
    const res = await fetch(`${base}/@v/v1.0.0.info`);
    assert.equal(res.status, 500);
    assert.equal(await res.text(), '500 Internal Server Error\n');
    delete script.info;
  });

  test('credentials never reach the logs', async () => {
    logs.length = 0;
    const token = 'glpat-neverLogThis000000';
    const res = await fetch(`${base}/@v/list`, { headers: { 'PRIVATE-TOKEN': token } });
    assert.equal(res.status, 404);
    assert.ok(!JSON.stringify(logs).includes(token));
  });
});
