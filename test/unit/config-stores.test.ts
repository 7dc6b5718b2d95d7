import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseServerConfig } from '../../src/config.js';
import { createConfigProjectStore, createConfigTokenStore, createPersonalAccessToken, tokenSha256 } from '../../src/config-stores.js';

const config = parseServerConfig(
  {
    modulePrefix: 'gitlab.example.com',
    projects: [
      { id: 42, path: 'Group/Sub/Project', repository: '/r/a.git', visibility: 'private' },
      { id: 7, path: 'group/other', repository: '/r/b.git', visibility: 'internal' },
    ],
    users: [
      {
        username: 'alice',
        projects: [42],
        tokens: [
          { sha256: tokenSha256('valid'), scopes: ['read_api'], expiresAt: '2027-01-01' },
          { sha256: tokenSha256('revoked'), scopes: ['api'], revoked: true },
        ],
      },
      { username: 'bob', projects: ['group/OTHER'], tokens: [{ sha256: tokenSha256('bob'), scopes: ['api'] }] },
    ],
  },
  { file: 'test', baseDir: '/' },
);

test('projects are found by numeric id or case-insensitive full path', () => {
  const store = createConfigProjectStore(config.projects);
  assert.equal(store.findProject('42')?.fullPath, 'Group/Sub/Project');
  assert.equal(store.findProject('042')?.id, 42);
  assert.equal(store.findProject('group/sub/project')?.id, 42);
  assert.deepEqual(store.findProject('7'), { id: 7, fullPath: 'group/other', visibility: 'internal', gitdir: '/r/b.git' });
  assert.equal(store.findProject('43'), null);
  assert.equal(store.findProject('project'), null); // no slash, not a number: never a project
  assert.equal(store.findProject('group/missing'), null);
});

test('tokens: valid until expiresAt, revoked never', () => {
  let now = new Date('2026-12-31T23:59:59Z');
  const store = createConfigTokenStore(config.users, { now: () => now });
  assert.deepEqual(store.authenticate({ token: 'valid', source: 'basic' }), { username: 'alice', scopes: ['read_api'] });
  assert.equal(store.authenticate({ token: 'revoked', source: 'bearer' }), null);
  assert.equal(store.authenticate({ token: 'unknown', source: 'private-token' }), null);
  assert.equal(store.authenticate({ token: '', source: 'basic' }), null);
  now = new Date('2027-01-01T00:00:00Z');
  assert.equal(store.authenticate({ token: 'valid', source: 'basic' }), null);
});

test("canRead follows the user's projects, by id or case-insensitive path, and only for principals it issued", () => {
  const store = createConfigTokenStore(config.users);
  const projects = createConfigProjectStore(config.projects);
  const p42 = projects.findProject('42')!;
  const p7 = projects.findProject('7')!;
  const alice = store.authenticate({ token: 'valid', source: 'basic' })!;
  const bob = store.authenticate({ token: 'bob', source: 'basic' })!;
  assert.equal(store.canRead(alice, p42), true);
  assert.equal(store.canRead(alice, p7), false);
  assert.equal(store.canRead(bob, p7), true);
  assert.equal(store.canRead(bob, p42), false);
  assert.equal(store.canRead({ username: 'alice', scopes: ['api'] }, p42), false);
});

test('new tokens are glpat- and 20 base62 characters, all different', () => {
  const tokens = new Set(Array.from({ length: 200 }, createPersonalAccessToken));
  assert.equal(tokens.size, 200);
  for (const token of tokens) assert.match(token, /^glpat-[0-9A-Za-z]{20}$/);
  assert.equal(tokenSha256('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});
