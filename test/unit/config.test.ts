import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseRouterOptions } from '../../routes/go-proxy-options.js';
import { loadServerConfig, parseServerConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';

const DIGEST = 'a'.repeat(64);
const base = {
  modulePrefix: 'gitlab.example.com',
  projects: [{ id: 42, path: 'group/sub/project', repository: './repos/group/sub/project.git', visibility: 'private' }],
  users: [
    {
      username: 'alice',
      projects: [42, 'Group/Sub/Project'],
      tokens: [{ sha256: DIGEST.toUpperCase(), scopes: ['read_api'], expiresAt: '2027-01-01' }],
    },
  ],
};
const where = { file: 'config.yaml', baseDir: '/etc/proxy' };

test('defaults, resolved paths and normalised digests', () => {
  const config = parseServerConfig(
    { ...base, cache: { dir: 'cache', maxBytes: 1024 }, server: { tls: { cert: 'c.pem', key: '/abs/k.pem' } } },
    where,
  );
  assert.deepEqual(config.server, {
    host: '127.0.0.1',
    port: 8080,
    goImport: 'mod',
    tls: { cert: '/etc/proxy/c.pem', key: '/abs/k.pem' },
    trustProxy: false,
    limits: {
      authFailures: { max: 30, windowSeconds: 60 },
      headersTimeoutSeconds: 10,
      idleTimeoutSeconds: 60,
      keepAliveTimeoutSeconds: 5,
      maxConnections: 4096,
      maxConnectionsPerAddress: 256,
      maxHeaderBytes: 16384,
      requestTimeoutSeconds: 30,
    },
  });
  assert.equal(config.projects[0]?.repository, '/etc/proxy/repos/group/sub/project.git');
  assert.equal(config.cache?.dir, '/etc/proxy/cache');
  const token = config.users[0]?.tokens[0];
  assert.equal(token?.sha256, DIGEST);
  assert.equal(token?.revoked, false);
  assert.equal(token?.expiresAt?.toISOString(), '2027-01-01T00:00:00.000Z');
});

test('cache.memoryBytes: one byte count for the process, 0 allowed (nothing kept), negative refused; objectBytes is gone', () => {
  assert.equal(parseServerConfig({ ...base, cache: { memoryBytes: 32 * 1024 * 1024 } }, where).cache?.memoryBytes, 32 * 1024 * 1024);
  assert.equal(parseServerConfig({ ...base, cache: { memoryBytes: 0 } }, where).cache?.memoryBytes, 0);
  assert.throws(() => parseServerConfig({ ...base, cache: { memoryBytes: -1 } }, where), /cache\.memoryBytes/);
  assert.throws(
    () => parseServerConfig({ ...base, cache: { objectBytes: 1 } }, where),
    /config\.yaml: cache\.objectBytes: replaced by cache\.memoryBytes: one memory budget for the whole process/,
  );
  assert.equal(parseServerConfig({ ...base, cache: { openRepositories: 8, idleSeconds: 0 } }, where).cache?.openRepositories, 8);
  assert.throws(() => parseServerConfig({ ...base, cache: { openRepositories: 0 } }, where), /cache\.openRepositories/);
});

test('expiresAt takes a date-time with offset, or a Date from a YAML 1.1 reader', () => {
  const withTime = (expiresAt: unknown) =>
    parseServerConfig(
      { ...base, users: [{ username: 'a', tokens: [{ sha256: DIGEST, scopes: ['api'], expiresAt }] }] },
      where,
    ).users[0]?.tokens[0]?.expiresAt?.toISOString();
  assert.equal(withTime('2027-01-01T12:00:00+02:00'), '2027-01-01T10:00:00.000Z');
  assert.equal(withTime(new Date('2027-01-02T00:00:00Z')), '2027-01-02T00:00:00.000Z');
});

const rejected: { name: string; raw: unknown; message: RegExp }[] = [
  { name: 'unknown top-level key', raw: { ...base, listen: '0.0.0.0' }, message: /^config\.yaml: Unrecognized key: "listen"$/m },
  { name: 'unknown nested key', raw: { ...base, server: { prot: 1 } }, message: /config\.yaml: server: Unrecognized key: "prot"/ },
  {
    name: 'modulePrefix with a scheme',
    raw: { ...base, modulePrefix: 'https://gitlab.example.com' },
    message: /config\.yaml: modulePrefix:/,
  },
  { name: 'modulePrefix with a trailing slash', raw: { ...base, modulePrefix: 'gitlab.example.com/' }, message: /modulePrefix/ },
  {
    name: 'bad visibility',
    raw: { ...base, projects: [{ ...base.projects[0], visibility: 'secret' }] },
    message: /projects\[0\]\.visibility/,
  },
  { name: 'path without a group', raw: { ...base, projects: [{ ...base.projects[0], path: 'project' }] }, message: /projects\[0\]\.path/ },
  {
    name: 'short digest',
    raw: { ...base, users: [{ username: 'a', tokens: [{ sha256: 'abc', scopes: ['api'] }] }] },
    message: /users\[0\]\.tokens\[0\]\.sha256/,
  },
  {
    name: 'misspelt scope',
    raw: { ...base, users: [{ username: 'a', tokens: [{ sha256: DIGEST, scopes: ['read-api'] }] }] },
    message: /users\[0\]\.tokens\[0\]\.scopes\[0\]/,
  },
  {
    name: 'bad date',
    raw: { ...base, users: [{ username: 'a', tokens: [{ sha256: DIGEST, scopes: ['api'], expiresAt: 'soon' }] }] },
    message: /expiresAt/,
  },
  {
    name: 'duplicate project id',
    raw: { ...base, projects: [base.projects[0], { ...base.projects[0], path: 'g/other' }] },
    message: /projects\[1\]\.id: duplicate project id 42/,
  },
  {
    name: 'duplicate project path, other case',
    raw: { ...base, projects: [base.projects[0], { ...base.projects[0], id: 43, path: 'GROUP/sub/project' }] },
    message: /projects\[1\]\.path/,
  },
  {
    name: 'user names an unknown project',
    raw: { ...base, users: [{ username: 'a', projects: [7] }] },
    message: /users\[0\]\.projects\[0\]: no such project/,
  },
  {
    name: 'the same digest twice',
    raw: {
      ...base,
      users: [
        { username: 'a', tokens: [{ sha256: DIGEST, scopes: ['api'] }] },
        { username: 'b', tokens: [{ sha256: DIGEST, scopes: ['api'] }] },
      ],
    },
    message: /users\[1\]\.tokens\[0\]\.sha256/,
  },
];

for (const { name, raw, message } of rejected) {
  test(`rejects ${name}, naming the key and the file`, () => {
    assert.throws(
      () => parseServerConfig(raw, where),
      (err: unknown) => err instanceof ConfigError && message.test(err.message),
    );
  });
}

test("loadServerConfig reads YAML and JSON, resolving paths against the file's folder", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'config-test-'));
  try {
    await writeFile(
      path.join(dir, 'c.yaml'),
      `modulePrefix: gitlab.example.com\nprojects:\n  - { id: 1, path: g/p, repository: ./r.git, visibility: public }\nusers:\n  - username: a\n    tokens:\n      - { sha256: "${DIGEST}", scopes: [read_api], expiresAt: 2027-01-01 }\n`,
    );
    const yaml = await loadServerConfig(path.join(dir, 'c.yaml'));
    assert.equal(yaml.projects[0]?.repository, path.join(dir, 'r.git'));
    assert.equal(yaml.users[0]?.tokens[0]?.expiresAt?.toISOString(), '2027-01-01T00:00:00.000Z');

    await writeFile(path.join(dir, 'c.json'), JSON.stringify({ modulePrefix: 'gitlab.example.com/gitlab' }));
    assert.equal((await loadServerConfig(path.join(dir, 'c.json'))).modulePrefix, 'gitlab.example.com/gitlab');

    await writeFile(path.join(dir, 'c.toml'), '');
    await assert.rejects(loadServerConfig(path.join(dir, 'c.toml')), ConfigError);
    await assert.rejects(loadServerConfig(path.join(dir, 'missing.yaml')), /missing\.yaml: cannot read the config file \(ENOENT\)/);
    await writeFile(path.join(dir, 'bad.yaml'), 'a: [');
    await assert.rejects(loadServerConfig(path.join(dir, 'bad.yaml')), /bad\.yaml: not valid YAML/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

const hooks = { modulePrefix: 'gitlab.example.com', projects: { findProject: () => null }, authenticate: () => null, canRead: () => false };

test('router options: the checked values come back, with the logger defaulted', () => {
  const checked = parseRouterOptions(hooks);
  assert.equal(checked.projects, hooks.projects);
  assert.equal(checked.authenticate, hooks.authenticate);
  assert.equal(checked.canRead, hooks.canRead);
  assert.equal(checked.modulePrefix, hooks.modulePrefix);
  assert.equal(checked.logger, silentLogger);
  const logger = { ...silentLogger };
  assert.equal(parseRouterOptions({ ...hooks, logger }).logger, logger);
});

const badOptions: { name: string; options: unknown; message: RegExp }[] = [
  { name: 'a misspelt option', options: { ...hooks, modulePreifx: 'x' }, message: /Unrecognized key: "modulePreifx"/ },
  { name: 'projects without findProject', options: { ...hooks, projects: {} }, message: /createGoProxyRouter options: projects:/ },
  { name: 'authenticate not a function', options: { ...hooks, authenticate: 'x' }, message: /authenticate:/ },
  { name: 'a logger without warn', options: { ...hooks, logger: { info() {} } }, message: /logger:/ },
  { name: 'a missing canRead', options: { ...hooks, canRead: undefined }, message: /canRead:/ },
  // The router calls services.warm for POST …/-/warm: a set without it must fail here, not there.
  {
    name: 'services without warm',
    options: { ...hooks, services: { acquire() {}, close() {} } },
    message: /services: expected a ProjectServices \(acquire, warm, stats and close/,
  },
  { name: 'a cache with a misspelt key', options: { ...hooks, cache: { dri: '/tmp/x' } }, message: /cache: Unrecognized key: "dri"/ },
];

for (const { name, options, message } of badOptions) {
  test(`router options: ${name} throws ConfigError naming it`, () => {
    // Deliberately wrong shapes, as a JavaScript caller could pass them.
    assert.throws(
      () => parseRouterOptions(options as Parameters<typeof parseRouterOptions>[0]),
      (err: unknown) => err instanceof ConfigError && message.test(err.message),
    );
  });
}
