import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { type RunningServer, startServer } from '../../routes/server.js';
import { parseServerConfig, type ServerConfig } from '../../src/config.js';
import { createPinoLogger } from '../../src/observability/log.js';
import { credentialHeaders, makeBareRepository, makeTempDir, standardHistory, TOKENS, usersConfig } from './fixtures.js';

/**
 * Floods against the standalone server over real sockets: a flood of wrong tokens from one
 * address is told to wait (429) while others are served; idle, slow-header and oversized requests
 * are cut by the configured bounds. The loopback range gives each "client" its own address
 * (127.0.0.2 floods, 127.0.0.1 is the valid user).
 */

const PREFIX = 'gitlab.example.com';
const PUBLIC = { id: 1, path: 'group/public' };
const PRIVATE = { id: 3, path: 'group/project' };
const ATTACKER = '127.0.0.2';
const USER = '127.0.0.1';

let tmp: { dir: string; remove(): Promise<void> };
const lines: string[] = [];
const logStream = new Writable({
  write(chunk: Buffer, _encoding, callback) {
    for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(line);
    callback();
  },
});
const servers: RunningServer[] = [];

async function start(server: Record<string, unknown>): Promise<RunningServer> {
  const config: ServerConfig = parseServerConfig(
    {
      server: { host: '127.0.0.1', port: 0, ...server },
      modulePrefix: PREFIX,
      projects: [
        { id: PUBLIC.id, path: PUBLIC.path, repository: `repos/${PUBLIC.path}.git`, visibility: 'public' },
        { id: PRIVATE.id, path: PRIVATE.path, repository: `repos/${PRIVATE.path}.git`, visibility: 'private' },
      ],
      users: usersConfig(PRIVATE.id),
      cache: { dir: false },
    },
    { file: 'floods.test config', baseDir: tmp.dir },
  );
  const running = await startServer(config, { logger: createPinoLogger({ level: 'info', format: 'json', stream: logStream }) });
  servers.push(running);
  return running;
}

before(async () => {
  tmp = await makeTempDir('gitlab-go-proxy-floods-');
  for (const { path: p } of [PUBLIC, PRIVATE]) {
    await makeBareRepository(path.join(tmp.dir, 'repos', `${p}.git`), standardHistory(`${PREFIX}/${p}`));
  }
});

after(async () => {
  for (const server of servers) await server.close();
  await tmp.remove();
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(url: string, { from = USER, headers = {} }: { from?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers, localAddress: from, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

const listUrl = (server: RunningServer, project: { id: number; path: string }): string =>
  `${server.url}/api/v4/projects/${project.id}/packages/go/${PREFIX}/${project.path}/@v/list`;

/** Opens a raw socket from `from`; resolves once connected. */
async function connect(server: RunningServer, from: string): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port: server.port, localAddress: from });
  socket.on('error', () => {});
  await once(socket, 'connect');
  return socket;
}

/** Resolves with the milliseconds until `socket` is closed by the other end, failing after `limitMs`. */
function closedWithin(socket: net.Socket, limitMs: number): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    if (socket.destroyed) {
      resolve(0);
      return;
    }
    const timer = setTimeout(() => reject(new Error(`socket still open after ${limitMs} ms`)), limitMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
    socket.resume();
  });
}

describe('failed-authentication limiting per address', () => {
  test('a flood of wrong tokens gets 429 with Retry-After; a valid user elsewhere is served, each refusal is logged without the token', async () => {
    const server = await start({ limits: { authFailures: { max: 5, windowSeconds: 60 } } });
    const wrong = { from: ATTACKER, headers: credentialHeaders('private-token', TOKENS.unknown) };
    for (let i = 0; i < 5; i++) assert.equal((await get(listUrl(server, PRIVATE), wrong)).status, 404);
    const limited = await get(listUrl(server, PRIVATE), wrong);
    assert.equal(limited.status, 429);
    assert.match(limited.body, /^429 Too Many Requests/);
    const retryAfter = Number(limited.headers['retry-after']);
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${limited.headers['retry-after']}`);

    // Once refused, the address's credentials are not looked at: a 200 for a right guess would confirm it.
    const rightFromAttacker = await get(listUrl(server, PRIVATE), { from: ATTACKER, headers: credentialHeaders('basic', TOKENS.alice) });
    assert.equal(rightFromAttacker.status, 429);
    // Anonymous reads of public projects guess nothing, so others behind the same address keep them.
    assert.equal((await get(listUrl(server, PUBLIC), { from: ATTACKER })).status, 200);

    const valid = await get(listUrl(server, PRIVATE), { from: USER, headers: credentialHeaders('basic', TOKENS.alice) });
    assert.equal(valid.status, 200);
    assert.match(valid.body, /^v1\.0\.0$/m);
    // The user's own wrong token is still a plain 404: the count is per address.
    assert.equal((await get(listUrl(server, PRIVATE), { from: USER, headers: credentialHeaders('bearer', TOKENS.unknown) })).status, 404);

    const refusals = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((e) => e['msg'] === 'credentials refused');
    const fromAttacker = refusals.filter((e) => e['address'] === ATTACKER);
    assert.equal(fromAttacker.length, 5, 'one info line per refused credential, none for the 429s');
    for (const entry of fromAttacker) {
      assert.equal(entry['level'], 'info');
      assert.equal(entry['reason'], 'credentials not valid');
      assert.equal(entry['project'], PRIVATE.id);
    }
    assert.ok(!lines.some((line) => line.includes(TOKENS.unknown) || line.includes(TOKENS.alice)), 'no token in any log line');
  });

  test('valid tokens refused for scope or access are not counted: such a user is never limited', async () => {
    const server = await start({ limits: { authFailures: { max: 2, windowSeconds: 60 } } });
    const bob = { from: ATTACKER, headers: credentialHeaders('private-token', TOKENS.bob) };
    for (let i = 0; i < 5; i++) assert.equal((await get(listUrl(server, PRIVATE), bob)).status, 404);
    assert.equal((await get(listUrl(server, PUBLIC), bob)).status, 200);
  });

  test('behind a trusted proxy the X-Forwarded-For client is counted, not the proxy', async () => {
    const server = await start({ trustProxy: 'loopback', limits: { authFailures: { max: 2, windowSeconds: 60 } } });
    const wrong = (client: string): { headers: Record<string, string> } => ({
      headers: { ...credentialHeaders('private-token', TOKENS.unknown), 'X-Forwarded-For': client },
    });
    for (let i = 0; i < 2; i++) assert.equal((await get(listUrl(server, PRIVATE), wrong('203.0.113.7'))).status, 404);
    assert.equal((await get(listUrl(server, PRIVATE), wrong('203.0.113.7'))).status, 429);
    assert.equal((await get(listUrl(server, PRIVATE), wrong('203.0.113.8'))).status, 404);
    const valid = { headers: { ...credentialHeaders('basic', TOKENS.alice), 'X-Forwarded-For': '203.0.113.8' } };
    assert.equal((await get(listUrl(server, PRIVATE), valid)).status, 200);
  });

  test('authFailures: false turns the limit off', async () => {
    const server = await start({ limits: { authFailures: false } });
    const wrong = { from: ATTACKER, headers: credentialHeaders('private-token', TOKENS.unknown) };
    for (let i = 0; i < 40; i++) assert.equal((await get(listUrl(server, PRIVATE), wrong)).status, 404);
  });
});

describe('connection bounds', () => {
  test('connections beyond the per-address cap are closed on accept; the first ones and other addresses are served', async () => {
    const server = await start({ limits: { maxConnectionsPerAddress: 8, headersTimeoutSeconds: 30, requestTimeoutSeconds: 60 } });
    const held = await Promise.all(Array.from({ length: 8 }, () => connect(server, ATTACKER)));
    let heldClosed = 0;
    for (const socket of held) socket.once('close', () => heldClosed++);
    // A served request from elsewhere: the accept queue is FIFO, so the 8 have been accepted by now.
    assert.equal((await get(listUrl(server, PUBLIC), { from: USER })).status, 200);
    const extra = await Promise.all(Array.from({ length: 4 }, () => connect(server, ATTACKER)));
    for (const socket of extra) await closedWithin(socket, 5000);
    assert.equal(heldClosed, 0, 'the connections within the cap stay open');
    // One of the held connections is still usable.
    held[0]!.write(`GET /api/v4/projects/${PUBLIC.id}/packages/go/${PREFIX}/${PUBLIC.path}/@v/list HTTP/1.1\r\nHost: x\r\n\r\n`);
    const [reply] = (await once(held[0]!, 'data')) as [Buffer];
    assert.match(reply.toString('latin1'), /^HTTP\/1\.1 200/);
    assert.equal((await get(listUrl(server, PRIVATE), { from: USER, headers: credentialHeaders('basic', TOKENS.alice) })).status, 200);
    for (const socket of held) socket.destroy();
  });

  test('connections beyond the total cap are closed on accept', async () => {
    const server = await start({ limits: { maxConnections: 4, headersTimeoutSeconds: 30, requestTimeoutSeconds: 60 } });
    const held = await Promise.all(Array.from({ length: 4 }, () => connect(server, ATTACKER)));
    let heldClosed = 0;
    for (const socket of held) socket.once('close', () => heldClosed++);
    const extra = await connect(server, USER);
    await closedWithin(extra, 5000);
    assert.equal(heldClosed, 0);
    for (const socket of held) socket.destroy();
    // Freed: the user is served again.
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal((await get(listUrl(server, PUBLIC), { from: USER })).status, 200);
  });

  test('a slow-header socket and a silent one are cut after headersTimeout while a valid user is served', async () => {
    const server = await start({ limits: { headersTimeoutSeconds: 1, requestTimeoutSeconds: 30 } });
    const slow = await connect(server, ATTACKER);
    slow.write('GET / HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => slow.writable && slow.write('X-Drip: 1\r\n'), 100);
    const silent = await connect(server, ATTACKER);
    const [slowMs, silentMs] = await Promise.all([closedWithin(slow, 5000), closedWithin(silent, 5000), get(listUrl(server, PUBLIC))]).then(
      async ([a, b, answer]) => {
        assert.equal(answer.status, 200);
        return [a, b];
      },
    );
    clearInterval(drip);
    assert.ok(slowMs! >= 900, `slow-header socket cut after ${slowMs} ms, before headersTimeout`);
    assert.ok(silentMs! >= 900, `silent socket cut after ${silentMs} ms`);
  });

  test('a kept-alive connection with no request is closed after keepAliveTimeout', async () => {
    const server = await start({ limits: { keepAliveTimeoutSeconds: 1 } });
    const socket = await connect(server, USER);
    socket.write(`GET /api/v4/projects/${PUBLIC.id}/packages/go/${PREFIX}/${PUBLIC.path}/@v/list HTTP/1.1\r\nHost: x\r\n\r\n`);
    await once(socket, 'data');
    const ms = await closedWithin(socket, 5000);
    assert.ok(ms >= 800, `closed after ${ms} ms`);
  });

  test('a request line or headers over maxHeaderBytes get 431', async () => {
    const server = await start({ limits: { maxHeaderBytes: 4096 } });
    const big = await get(listUrl(server, PUBLIC), { headers: { 'X-Big': 'a'.repeat(5000) } });
    assert.equal(big.status, 431);
    const longLine = await get(`${listUrl(server, PUBLIC)}?${'q'.repeat(5000)}`);
    assert.equal(longLine.status, 431);
    assert.equal((await get(listUrl(server, PUBLIC))).status, 200);
  });
});

describe('server.limits config', () => {
  test('has the documented defaults and rejects unknown keys', () => {
    const config = parseServerConfig({ modulePrefix: PREFIX }, { file: 'x.yaml', baseDir: '/' });
    assert.deepEqual(config.server.limits, {
      authFailures: { max: 30, windowSeconds: 60 },
      headersTimeoutSeconds: 10,
      requestTimeoutSeconds: 30,
      keepAliveTimeoutSeconds: 5,
      idleTimeoutSeconds: 60,
      maxConnectionsPerAddress: 256,
      maxConnections: 4096,
      maxHeaderBytes: 16_384,
    });
    assert.equal(config.server.trustProxy, false);
    assert.throws(
      () => parseServerConfig({ modulePrefix: PREFIX, server: { limits: { maxConection: 1 } } }, { file: 'x.yaml', baseDir: '/' }),
      /maxConection/,
    );
  });
});
