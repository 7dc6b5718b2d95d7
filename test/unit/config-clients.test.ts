import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseServerConfig } from '../../src/config.js';
import { createConfigGroupStore } from '../../src/config-groups.js';
import { createConfigProjectStore, createConfigTokenStore, tokenSha256 } from '../../src/config-stores.js';
import { hasPathPrefix, longestRoot, moduleRootOf } from '../../src/service/module-roots.js';
import { modulePathsFromTags } from '../../src/service/warm.js';

const where = { file: 'config.yaml', baseDir: '/etc/proxy' };
const project = (id: number, path: string, extra: object = {}) => ({
  id,
  path,
  repository: `${path}.git`,
  visibility: 'private',
  ...extra,
});
const config = (extra: object) => parseServerConfig({ modulePrefix: 'gitlab.example.com', ...extra }, where);

test('projects[].modulePath: any valid module path, one-segment hosts and gopkg.in majors included; a bad one names the key', () => {
  const parsed = config({
    projects: [
      project(1, 'acme/lib', { modulePath: 'go.example.org/lib' }),
      project(2, 'acme/yaml-v3', { modulePath: 'gopkg.in/yaml.v3' }),
      project(3, 'acme/atomic', { modulePath: 'go.uber.org/atomic' }),
    ],
  });
  assert.deepEqual(
    parsed.projects.map((p) => p.modulePath),
    ['go.example.org/lib', 'gopkg.in/yaml.v3', 'go.uber.org/atomic'],
  );
  assert.throws(
    () => config({ projects: [project(1, 'acme/lib', { modulePath: 'https://go.example.org/lib' })] }),
    /projects\[0\]\.modulePath: not a valid module path/,
  );
  assert.throws(() => config({ projects: [project(1, 'acme/lib', { modulePath: 'nodot/lib' })] }), /projects\[0\]\.modulePath/);
  // Two projects with one module root would make the group endpoint's choice arbitrary.
  assert.throws(
    () => config({ projects: [project(1, 'acme/a', { modulePath: 'gitlab.example.com/acme/b' }), project(2, 'acme/b')] }),
    /projects\[1\]\.modulePath: two projects serve gitlab\.example\.com\/acme\/b/,
  );
});

test('groups and deployTokens: ids unique, projects known, digests not shared with a user token', () => {
  const digest = 'b'.repeat(64);
  const ok = config({
    projects: [project(1, 'acme/lib')],
    groups: [{ id: 7, path: 'acme' }],
    deployTokens: [{ username: 'd', sha256: digest, scopes: ['read_package_registry'], groups: ['acme'], expiresAt: '2030-01-01' }],
  });
  assert.equal(ok.deployTokens[0]?.revoked, false);
  assert.equal(ok.deployTokens[0]?.expiresAt?.toISOString(), '2030-01-01T00:00:00.000Z');
  assert.throws(
    () =>
      config({
        groups: [
          { id: 7, path: 'a' },
          { id: 7, path: 'b' },
        ],
      }),
    /groups\[1\]\.id: duplicate group id 7/,
  );
  assert.throws(
    () => config({ deployTokens: [{ username: 'd', sha256: digest, scopes: ['read_package_registry'], projects: [9] }] }),
    /deployTokens\[0\]\.projects\[0\]: no such project/,
  );
  assert.throws(
    () => config({ deployTokens: [{ username: 'd', sha256: digest, scopes: ['read_api'] }] }),
    /deployTokens\[0\]\.scopes\[0\]/,
  );
  assert.throws(
    () =>
      config({
        users: [{ username: 'u', tokens: [{ sha256: digest, scopes: ['read_api'] }] }],
        deployTokens: [{ username: 'd', sha256: digest, scopes: ['read_package_registry'] }],
      }),
    /deployTokens\[0\]\.sha256: the same token digest appears twice/,
  );
  assert.throws(() => config({ server: { externalUrl: 'ftp://x.example' } }), /server\.externalUrl/);
  assert.equal(config({ server: { externalUrl: 'https://go.example.com/' } }).server.externalUrl, 'https://go.example.com');
});

test('deploy tokens: the username must match, group scope covers subgroups only, expiry and revocation fail like unknown tokens', () => {
  const now = new Date('2029-06-01T00:00:00Z');
  const parsed = config({
    projects: [project(1, 'acme/lib'), project(2, 'acme/sub/deep'), project(3, 'acmex/other'), project(4, 'other/one')],
    deployTokens: [
      { username: 'grp', sha256: tokenSha256('gldt-group'), scopes: ['read_package_registry'], groups: ['acme'] },
      { username: 'prj', sha256: tokenSha256('gldt-project'), scopes: ['read_package_registry'], projects: ['other/one'] },
      { username: 'old', sha256: tokenSha256('gldt-old'), scopes: ['read_package_registry'], groups: ['acme'], expiresAt: '2029-01-01' },
      { username: 'rev', sha256: tokenSha256('gldt-rev'), scopes: ['read_package_registry'], groups: ['acme'], revoked: true },
    ],
  });
  const projects = createConfigProjectStore(parsed.projects);
  const tokens = createConfigTokenStore(parsed.users, { now: () => now, deployTokens: parsed.deployTokens });
  const group = tokens.authenticate({ token: 'gldt-group', source: 'basic', username: 'grp' });
  assert.ok(group);
  assert.deepEqual(group.scopes, ['read_package_registry']);
  assert.equal(tokens.canRead(group, projects.findProject('1')!), true);
  assert.equal(tokens.canRead(group, projects.findProject('2')!), true);
  assert.equal(tokens.canRead(group, projects.findProject('3')!), false, '"acmex" is not under "acme"');
  assert.equal(tokens.canRead(group, projects.findProject('4')!), false);
  const one = tokens.authenticate({ token: 'gldt-project', source: 'basic', username: 'prj' })!;
  assert.equal(tokens.canRead(one, projects.findProject('4')!), true);
  assert.equal(tokens.canRead(one, projects.findProject('1')!), false);
  assert.equal(tokens.authenticate({ token: 'gldt-group', source: 'basic', username: 'someone' }), null);
  assert.equal(tokens.authenticate({ token: 'gldt-group', source: 'private-token' }), null);
  assert.equal(tokens.authenticate({ token: 'gldt-old', source: 'basic', username: 'old' }), null);
  assert.equal(tokens.authenticate({ token: 'gldt-rev', source: 'basic', username: 'rev' }), null);
  assert.equal(tokens.authenticate({ token: 'gldt-group', source: 'job-token', username: 'grp' }), null);
});

test('module roots: the longest prefix at a slash wins; gopkg.in majors are whole elements', () => {
  const projects = [
    { fullPath: 'acme/lib', modulePath: 'go.example.org/lib' },
    { fullPath: 'acme/lib-sub', modulePath: 'go.example.org/lib/sub' },
    { fullPath: 'acme/yaml-v3', modulePath: 'gopkg.in/yaml.v3' },
    { fullPath: 'acme/plain' },
  ];
  const pick = (path: string) => longestRoot(projects, path, 'gitlab.example.com')?.fullPath ?? null;
  assert.equal(pick('go.example.org/lib'), 'acme/lib');
  assert.equal(pick('go.example.org/lib/x/v2'), 'acme/lib');
  assert.equal(pick('go.example.org/lib/sub/deeper'), 'acme/lib-sub');
  assert.equal(pick('go.example.org/library'), null);
  assert.equal(pick('gopkg.in/yaml.v3'), 'acme/yaml-v3');
  assert.equal(pick('gopkg.in/yaml.v3x'), null);
  assert.equal(pick('gitlab.example.com/acme/plain/sub'), 'acme/plain');
  assert.equal(moduleRootOf({ fullPath: 'a/b' }, 'h.example'), 'h.example/a/b');
  assert.equal(hasPathPrefix('a.b/c', 'a.b/c'), true);
  assert.equal(hasPathPrefix('a.b/cd', 'a.b/c'), false);
});

test('config groups: every leading part of a project path, numeric ids from groups, case-insensitive; module roots for discovery', () => {
  const parsed = config({
    projects: [project(1, 'Acme/platform/core'), project(2, 'acme/lib', { modulePath: 'go.example.org/lib' }), project(3, 'other/x')],
    groups: [{ id: 5, path: 'acme/platform' }],
  });
  const projects = createConfigProjectStore(parsed.projects);
  const groups = createConfigGroupStore(
    parsed.groups,
    parsed.projects.map((p) => p.path),
    projects,
    parsed.modulePrefix,
  );
  const ids = (g: string) => groups.groupProjects(groups.findGroup(g)!).map((p) => p.id);
  assert.deepEqual(ids('acme'), [1, 2]);
  assert.deepEqual(ids('ACME/Platform'), [1]);
  assert.deepEqual(ids('5'), [1]);
  assert.equal(groups.findGroup('acme/platform/core'), null, 'a project is not a group');
  assert.equal(groups.findGroup('6'), null);
  assert.deepEqual(
    groups.projectsForModule('go.example.org/lib/sub').map((p) => p.id),
    [2],
  );
});

test('warm lists a gopkg.in root as one module: its tags are its versions', () => {
  const tags = new Map(['v2.0.0', 'v3.0.0', 'sub/v1.0.0'].map((t) => [t, { peeled: 'x', oid: 'x' }]));
  const refs = { tags } as unknown as Parameters<typeof modulePathsFromTags>[0];
  assert.deepEqual(modulePathsFromTags(refs, 'gopkg.in/yaml.v3'), ['gopkg.in/yaml.v3', 'gopkg.in/yaml.v3/sub']);
  assert.deepEqual(modulePathsFromTags(refs, 'go.example.org/lib'), [
    'go.example.org/lib',
    'go.example.org/lib/sub',
    'go.example.org/lib/v2',
    'go.example.org/lib/v3',
  ]);
});
