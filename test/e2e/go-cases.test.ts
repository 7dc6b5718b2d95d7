/**
 * Issue 3: the test cases of go-modules.md §6, end to end. Each download case runs the real `go`
 * twice on the SAME generated bare repository, once with GOPROXY=direct (git through the
 * `insteadOf` rule of §7) and once through our proxy, each with a fresh module cache, and demands
 * the same Version, Sum, GoModSum and `.info` Time (or both failing). Where §4.3/§6 give exact
 * hashes (content-only vectors), they are asserted too: first against direct mode, which checks the
 * fixture itself, then against the proxy.
 *
 * Cases about the proxy's raw HTTP answers (list bodies, 404 reasons, escaping) use plain HTTPS
 * requests against the same server. All projects here are public, so these tests are about
 * content, not credentials (those are in go-client.test.ts and the HTTP tests).
 *
 * Not covered here, on purpose: §6 cases 5, 9, 50 and 51 are negative controls of the `go` client
 * against a hand-made stub proxy (wrong echo, redirects, re-packed zips) and say nothing about our
 * server; case 16's "every request carries the credentials" needs the server's request log
 * (go-client.test.ts covers the private project over .netrc); case 20 is a client-only netrc rule.
 * Pseudo-version Sums quoted in case 36 depend on the verification run's commit hashes (their
 * commit ids are in the file names), so only their shape and parity with direct mode are checked.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BuiltRepo, createFixtureWorld, type FixtureWorld, type RepoSpec, run, type TreeSpec } from '../helpers/fixtures.js';
import {
  createSelfSignedCert,
  DIRECT,
  type DownloadResult,
  diffDownloads,
  GoClient,
  type GoMode,
  goModHash,
  goSkipReason,
  zipFileNames,
} from '../helpers/go-client.js';
import { type HttpResponse, type ProxyServer, startProxy, startStubServer } from '../helpers/proxy-process.js';

const skip = await goSkipReason();

// ------------------------------------------------------------------------------------------------
// repositories (go-modules.md §4.3 and §6)

const mod = (path: string, extra = '') => ({ 'go.mod': `module ${path}\n${extra}` });
const NAMES_MOD = mod('github.com/testorg/names');
const BIG_GO_MOD = 'module github.com/testorg/big\n// ' + 'x'.repeat(16 * 1024 * 1024) + '\n';

const BASIC_TREE: TreeSpec = {
  'go.mod': 'module github.com/testorg/basic\n\ngo 1.16\n',
  'a.go': 'package basic\n',
  LICENSE: 'LICENSE TEXT\n',
  'vendor/modules.txt': '# modules\n',
  'vendor/x/y.go': 'package y\n',
  'vendor/top.go': 'package vendor\n',
  'pkg/vendor/a.go': 'package vendor\n',
  'pkg/vendor/sub/b.go': 'package sub\n',
  'sub/go.mod': 'module github.com/testorg/basic/sub\n',
  'sub/s.go': 'package sub\n',
  'link.go': { symlink: 'a.go' },
  'a b.txt': 'x',
  'testdata/x.json': '{}',
  '.gitattributes': 'ignored.txt export-ignore\nsubst.txt export-subst\ncrlf.txt eol=crlf\nident.txt ident\n',
  'ignored.txt': 'should be kept\n',
  'subst.txt': 'commit $Format:%H$\n',
  'crlf.txt': 'line1\nline2\n',
  'ident.txt': '$Id$\n',
};

const MONO_TREE: TreeSpec = {
  'go.mod': 'module github.com/testorg/mono\n',
  LICENSE: 'ROOT LICENSE\n',
  'm.go': 'package mono\n',
  'sub/dir/go.mod': 'module github.com/testorg/mono/sub/dir\n',
  'sub/dir/d.go': 'package dir\n',
  'v2/go.mod': 'module github.com/testorg/mono/v2\n',
  'v2/m.go': 'package mono\n',
  'lic/go.mod': 'module github.com/testorg/mono/lic\n',
  'lic/LICENSE': 'OWN\n',
};

const EDGE_TREE: TreeSpec = {
  'go.mod': 'module github.com/testorg/edge\n',
  '.gitmodules': '[submodule "submod"]\n\tpath = submod\n\turl = https://example.com/submod.git\n',
  'b/vendor': 'a file named vendor\n',
  empty: '',
  'exe.sh': { content: '#!/bin/sh\necho hi\n', executable: true },
  'real.mod': 'module github.com/testorg/edge/subl\n',
  'subl/x.go': 'package subl\n',
  'subl/go.mod': { symlink: '../real.mod' },
  'vendorx/a.go': 'package vendorx\n',
  'a/vendor/modules.txt': '# nested\n',
  'c/vendor/d/e.go': 'package d\n',
  dirlink: { symlink: 'subl' },
  submod: { gitlink: '0123456789abcdef0123456789abcdef01234567' },
};

const names = (tag: string, day: number, files: TreeSpec) => ({
  date: `2021-05-${String(day).padStart(2, '0')}T12:00:00Z`,
  tags: [tag],
  tree: { ...NAMES_MOD, ...files },
});

const REPOS: RepoSpec[] = [
  { name: 'basic', commits: [{ date: '2020-06-01T12:00:00+05:30', tags: ['v1.0.0'], tree: BASIC_TREE }] },
  {
    name: 'mono',
    // §4.3 tags one commit; §6 case 22 resolves `sub/dir@main` to a pseudo-version dated
    // 2020-02-01, so HEAD is a later commit that only touches the root (not sub/dir).
    commits: [
      { date: '2020-01-15T00:00:00Z', tags: ['v1.0.0', 'sub/dir/v1.0.0', 'v2.0.0', 'lic/v0.1.0', 'sub/dir/v1.1'], tree: MONO_TREE },
      { date: '2020-02-01T00:00:00Z', tree: { ...MONO_TREE, 'README.md': 'root only\n' } },
    ],
  },
  {
    name: 'noinc',
    objects: 'loose',
    commits: [
      { date: '2019-01-01T00:00:00Z', tags: ['v1.0.0'], tree: { 'noinc.go': 'package noinc // 1\n' } },
      { date: '2019-02-01T00:00:00Z', tags: ['v2.0.0'], tree: { 'noinc.go': 'package noinc // 2\n' } },
      { date: '2019-02-15T00:00:00Z', tags: ['v2.1.0-beta.1'], tree: { 'noinc.go': 'package noinc // 2.1\n' } },
      { date: '2019-03-01T00:00:00Z', tags: ['v3.0.0'], tree: { 'noinc.go': 'package noinc // 3\n' } },
      { date: '2019-04-01T00:00:00Z', tree: { 'noinc.go': 'package noinc // head\n' } },
    ],
  },
  {
    name: 'pseudo',
    refsLayout: 'mixed',
    commits: [
      { date: '2021-01-01T10:00:00Z', tree: { ...mod('github.com/testorg/pseudo'), 'p.go': 'package p // 1\n' } },
      { date: '2021-01-02T10:00:00Z', tags: ['v1.0.0'], tree: { ...mod('github.com/testorg/pseudo'), 'p.go': 'package p // 2\n' } },
      { date: '2021-01-03T10:00:00Z', tags: ['v1.1.0-rc.1'], tree: { ...mod('github.com/testorg/pseudo'), 'p.go': 'package p // 3\n' } },
      {
        date: '2021-01-04T10:00:00Z',
        tags: ['vfoo', 'v1.3.0+meta', 'v1.2', 'v01.4.0', 'v1.0.0-20210101000000-abcdefabcdef'],
        tree: { ...mod('github.com/testorg/pseudo'), 'p.go': 'package p // 4\n' },
      },
    ],
    branches: { 'v9.9.9': 'c4' },
  },
  {
    name: 'notags',
    commits: [{ date: '2022-05-06T07:08:09+02:00', tree: { ...mod('github.com/testorg/notags'), 'n.go': 'package notags\n' } }],
  },
  {
    name: 'notags2',
    commits: [{ date: '2022-05-06T07:08:09Z', tree: { ...mod('github.com/testorg/notags2/v2'), 'n.go': 'package notags\n' } }],
  },
  {
    org: 'TestOrg',
    name: 'Upper',
    commits: [
      {
        date: '2020-01-01T00:00:00Z',
        tags: ['v1.0.0-RC1', 'v1.0.0-rc1'],
        tree: { ...mod('github.com/TestOrg/Upper'), 'U.go': 'package upper\n' },
      },
      {
        date: '2020-01-02T03:04:05Z',
        branch: 'Feature',
        parents: ['c1'],
        tree: { ...mod('github.com/TestOrg/Upper'), 'U.go': 'package upper\n', 'F.go': 'package upper // feature\n' },
      },
    ],
  },
  {
    name: 'dates',
    commits: [
      {
        date: '2023-06-07T08:09:10-07:00',
        authorDate: '2001-01-01T00:00:00Z',
        tags: [{ name: 'v1.0.0', date: '2030-01-01T00:00:00Z', message: 'annotated, made in 2030\n' }, 'v1.0.1'],
        tree: { ...mod('github.com/testorg/dates'), 'd.go': 'package dates\n' },
      },
    ],
  },
  {
    name: 'retr',
    commits: [
      {
        label: 'A',
        date: '2021-01-01T00:00:00Z',
        tags: ['v1.0.0'],
        tree: { ...mod('github.com/testorg/retr'), 'r.go': 'package retr // A\n' },
      },
      {
        label: 'B',
        date: '2021-01-02T00:00:00Z',
        tags: ['v1.1.0'],
        tree: { ...mod('github.com/testorg/retr'), 'r.go': 'package retr // B\n' },
      },
      {
        label: 'C',
        date: '2021-01-03T00:00:00Z',
        tags: ['v1.2.0'],
        tree: { ...mod('github.com/testorg/retr', '\nretract v1.1.0 // broken\n'), 'r.go': 'package retr // C\n' },
      },
      {
        label: 'D',
        date: '2021-01-04T00:00:00Z',
        tree: { ...mod('github.com/testorg/retr', '\nretract v1.1.0 // broken\n'), 'r.go': 'package retr // D\n' },
      },
    ],
  },
  {
    name: 'mis',
    commits: [
      { date: '2021-02-01T00:00:00Z', tags: ['v1.0.0'], tree: { ...mod('example.com/other'), 'm.go': 'package other\n' } },
      { date: '2021-02-02T00:00:00Z', tags: ['v1.1.0'], tree: { ...mod('github.com/testorg/mis/v2'), 'm.go': 'package mis\n' } },
      {
        date: '2021-02-03T00:00:00Z',
        tags: ['nomod/v1.0.0'],
        tree: { ...mod('github.com/testorg/mis/v2'), 'm.go': 'package mis\n', 'nomod/x.go': 'package nomod\n' },
      },
    ],
  },
  {
    name: 'crlf',
    commits: [
      {
        date: '2021-03-01T00:00:00Z',
        tags: ['v1.0.0'],
        tree: { '.gitattributes': '* text eol=crlf\n', 'go.mod': 'module github.com/testorg/crlf\n\ngo 1.16\n', 'a.go': 'package crlf\n' },
      },
      {
        date: '2021-03-02T00:00:00Z',
        tags: ['sub/v1.0.0'],
        tree: {
          '.gitattributes': '* text eol=crlf\n',
          'go.mod': 'module github.com/testorg/crlf\n\ngo 1.16\n',
          'a.go': 'package crlf\n',
          LICENSE: 'LICENSE TEXT\nsecond line\n',
          'sub/go.mod': 'module github.com/testorg/crlf/sub\n',
          'sub/s.go': 'package sub\n\nfunc S() {}\n',
        },
      },
    ],
  },
  {
    name: 'names',
    commits: [
      names('v0.1.0', 1, { 'README.md': 'x\n', 'Readme.md': 'y\n' }),
      names('v0.2.0', 2, { 'a:b.go': 'x\n' }),
      names('v0.3.0', 3, { 'aux.go': 'x\n' }),
      names('v0.4.0', 4, { 'ａ.txt': 'a\n', '𝐀.txt': 'b\n', 'Ｂ.txt': 'c\n', 'é.txt': 'd\n' }),
      names('v0.5.0', 5, { 'sub/GO.MOD': 'x\n', 'sub/y.go': 'y\n' }),
      names('v0.6.0', 6, { 'GO.MOD': 'x\n' }),
      names('v0.7.0', 7, { 'a*b': 'x\n' }),
      names('v0.8.0', 8, {
        'file~1.go': 'x\n',
        '.hidden': 'y\n',
        '.git2/x': 'z\n',
        '.hg/x': 'z\n',
        '.hg_archival.txt': 'q\n',
        'd/.hg_archival.txt': '1\n',
      }),
      names('v0.9.0', 9, { 'ａ.txt': 'a\n', 'Ａ.txt': 'b\n' }),
      names('v0.10.0', 10, { 'a/go.mod/f.go': 'x\n' }),
    ],
  },
  { name: 'edge', commits: [{ date: '2021-06-01T00:00:00-03:00', tags: ['v1.0.0'], tree: EDGE_TREE }] },
  {
    name: 'vend',
    commits: [
      {
        date: '2021-07-01T00:00:00Z',
        tags: ['v1.0.0'],
        tree: {
          'go.mod': 'module github.com/testorg/vend\n\ngo 1.23\n',
          'a.go': 'package vend\n',
          'vendor/modules.txt': '# modules\n',
          'vendor/x/y.go': 'package y\n',
          'pkg/vendor/a.go': 'package vendor\n',
          'pkg/vendor/sub/b.go': 'package sub\n',
        },
      },
      {
        date: '2021-07-02T00:00:00Z',
        tags: ['v1.24.0'],
        tree: {
          'go.mod': 'module github.com/testorg/vend\n\ngo 1.24\n',
          'a.go': 'package vend\n',
          'vendor/modules.txt': '# modules\n',
          'vendor/x/y.go': 'package y\n',
          'pkg/vendor/a.go': 'package vendor\n',
          'pkg/vendor/sub/b.go': 'package sub\n',
        },
      },
    ],
  },
  {
    name: 'inca',
    commits: [
      { date: '2021-08-01T00:00:00Z', tags: ['v1.0.0'], tree: { ...mod('github.com/testorg/inca'), 'a.go': 'package inca\n' } },
      { date: '2021-08-02T00:00:00Z', tags: ['v2.0.0'], tree: { 'a.go': 'package inca // no go.mod\n' } },
    ],
  },
  {
    name: 'incb',
    commits: [
      {
        date: '2021-08-03T00:00:00Z',
        tags: ['v2.0.0'],
        tree: { 'a.go': 'package incb\n', 'v2/go.mod': 'module github.com/testorg/incb/v2\n', 'v2/b.go': 'package incb\n' },
      },
    ],
  },
  {
    name: 'symlic',
    commits: [
      {
        date: '2021-09-01T00:00:00Z',
        tags: ['sub/v1.0.0'],
        tree: {
          ...mod('github.com/testorg/symlic'),
          LICENSE: 'ROOT LICENSE\n',
          'sub/go.mod': 'module github.com/testorg/symlic/sub\n',
          'sub/s.go': 'package sub\n',
          'sub/LICENSE': { symlink: '../LICENSE' },
        },
      },
    ],
  },
  {
    name: 'pull',
    commits: [
      { date: '2021-10-01T00:00:00Z', tags: ['v1.0.0'], tree: { ...mod('github.com/testorg/pull'), 'p.go': 'package pull\n' } },
      {
        date: '2021-10-02T00:00:00Z',
        branch: 'refs/pull/1/head',
        parents: ['c1'],
        tree: { ...mod('github.com/testorg/pull'), 'p.go': 'package pull // pr\n' },
      },
    ],
  },
  { name: 'big', commits: [{ date: '2021-11-01T00:00:00Z', tags: ['v1.0.0'], tree: { 'go.mod': BIG_GO_MOD, 'b.go': 'package big\n' } }] },
  {
    name: 'moved',
    commits: [
      { date: '2021-12-01T00:00:00Z', tags: ['v1.0.0'], tree: { ...mod('github.com/testorg/moved'), 'm.go': 'package moved // first\n' } },
      { date: '2021-12-02T00:00:00Z', tree: { ...mod('github.com/testorg/moved'), 'm.go': 'package moved // second\n' } },
    ],
  },
];

// ------------------------------------------------------------------------------------------------
// helpers

/** Go's module/version escaping plus the percent-encoding `go` puts on the wire (`!` → `%21`). */
function wirePath(s: string): string {
  return s
    .replace(/[A-Z]/g, (c) => '!' + c.toLowerCase())
    .split('/')
    .map((seg) => encodeURIComponent(seg).replace(/%2B/g, '+').replace(/!/g, '%21'))
    .join('/');
}

interface Expect {
  /** direct mode (and so the proxy) must fail; a RegExp must match direct mode's error. */
  fails?: true | RegExp;
  version?: string;
  sum?: string;
  goModSum?: string;
  time?: string;
  /** Exact zip file names, without the `module@version/` prefix. */
  files?: string[];
}

describe('go-modules.md §6 cases: real go through the proxy vs GOPROXY=direct (issue 3)', { skip: skip ?? false }, () => {
  let world: FixtureWorld;
  let server: ProxyServer;
  let go: GoClient;
  const repos = new Map<string, BuiltRepo>();
  const projectIds = new Map<string, number>();

  const repo = (name: string): BuiltRepo => {
    const r = repos.get(name);
    if (!r) throw new Error(`no fixture ${name}`);
    return r;
  };
  const M = (path: string) => (path.startsWith('github.com/') ? path : `github.com/testorg/${path}`);
  const projectOf = (modulePath: string): number => {
    const id = projectIds.get(M(modulePath).split('/').slice(1, 3).join('/'));
    if (id === undefined) throw new Error(`no project for ${modulePath}`);
    return id;
  };
  const viaProxy = (modulePath: string): GoMode => ({ goproxy: server.goproxy(projectOf(modulePath)), netrc: null, label: 'proxy' });
  const tail = () => {
    const out = server.output().trim().split('\n').slice(-10).join('\n');
    return out ? `\n--- last server output ---\n${out}` : '';
  };

  /** Direct mode first (checks the fixture and the spec's expectation), then parity with the proxy. */
  async function check(modulePath: string, query: string, expect: Expect = {}): Promise<{ direct: DownloadResult; proxy: DownloadResult }> {
    const full = `${M(modulePath)}@${query}`;
    const { direct, proxy } = await go.compareWithDirect(full, viaProxy(modulePath));
    const where = `${full} (fixture check against direct mode)`;
    if (expect.fails) {
      assert.equal(direct.ok, false, `${where}: expected a failure, got ${direct.Version}`);
      if (expect.fails instanceof RegExp) assert.match(direct.Error ?? '', expect.fails, where);
    } else {
      assert.ok(direct.ok, `${where}: ${direct.Error}`);
      if (expect.version) assert.equal(direct.Version, expect.version, where);
      if (expect.sum) assert.equal(direct.Sum, expect.sum, where);
      if (expect.goModSum) assert.equal(direct.GoModSum, expect.goModSum, where);
      if (expect.time) assert.equal(direct.info?.Time, expect.time, where);
      if (expect.files) assert.deepEqual(zipFileNames(direct), [...expect.files].sort(), where);
    }
    const diffs = diffDownloads(direct, proxy);
    assert.deepEqual(
      diffs,
      [],
      `${full}: proxy differs from direct mode\n${diffs.join('\n')}\nproxy error: ${proxy.Error ?? '-'}${tail()}`,
    );
    return { direct, proxy };
  }

  async function raw(modulePath: string, rest: string, method: 'GET' | 'HEAD' = 'GET'): Promise<HttpResponse> {
    return server.request(`/api/v4/projects/${projectOf(modulePath)}/packages/go/${wirePath(M(modulePath))}/${rest}`, { method });
  }

  async function expectNotFound(modulePath: string, rest: string, reason?: RegExp): Promise<HttpResponse> {
    const res = await raw(modulePath, rest);
    assert.ok(res.status === 404 || res.status === 410, `${M(modulePath)}/${rest}: expected 404/410, got ${res.status}: ${res.text}`);
    assert.match(String(res.headers['content-type'] ?? ''), /^text\/plain/, `${rest}: error body must be text/plain for go to show it`);
    if (reason) assert.match(res.text, reason, `${M(modulePath)}/${rest}: 404 body should carry Go's reason`);
    return res;
  }

  async function listLines(modulePath: string): Promise<string[]> {
    const res = await raw(modulePath, '@v/list');
    assert.equal(res.status, 200, `${M(modulePath)} list: ${res.status} ${res.text}${tail()}`);
    return res.text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
  }

  before(async () => {
    world = await createFixtureWorld('goproxy-cases-');
    let id = 100;
    for (const spec of REPOS) {
      const built = await world.build(spec);
      repos.set(spec.name, built);
      projectIds.set(built.fullPath, ++id);
    }
    const cert = await createSelfSignedCert(join(world.root, 'tls'));
    server = await startProxy({
      dir: join(world.root, 'server'),
      tls: { cert: cert.certFile, key: cert.keyFile },
      cache: true,
      projects: [...repos.values()].map((r) => ({
        id: projectIds.get(r.fullPath)!,
        path: r.fullPath,
        repository: r.gitdir,
        visibility: 'public' as const,
      })),
      users: [],
    });
    go = new GoClient({ world, certFile: cert.certFile });
  });

  after(async () => {
    await server?.stop();
    await world?.dispose();
  });

  // ---------------------------------------------------------------------------------------------
  describe('Protocol / HTTP (cases 1–13)', () => {
    it('case 1: Upper list arrives as %21test%21org/%21upper and lists v1.0.0-RC1 and v1.0.0-rc1', async () => {
      const res = await server.request(
        `/api/v4/projects/${projectOf('github.com/TestOrg/Upper')}/packages/go/github.com/%21test%21org/%21upper/@v/list`,
      );
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.text.split('\n').filter(Boolean), ['v1.0.0-RC1', 'v1.0.0-rc1']);
    });

    it('case 2: Upper@v1.0.0-RC1 via v1.0.0-%21r%21c1.info, zip prefix with upper case, Sum h1:/tjm…', async () => {
      const res = await raw('github.com/TestOrg/Upper', '@v/v1.0.0-%21r%21c1.info');
      assert.equal(res.status, 200, res.text);
      assert.equal((JSON.parse(res.text) as { Version: string }).Version, 'v1.0.0-RC1');
      const { proxy } = await check('github.com/TestOrg/Upper', 'v1.0.0-RC1', {
        version: 'v1.0.0-RC1',
        sum: 'h1:/tjmtUaCfYZ1Uez0e0S3zuS6qSUl2U7dyEwzhva/ftU=',
      });
      assert.ok([...(proxy.zip?.keys() ?? [])].every((n) => n.startsWith('github.com/TestOrg/Upper@v1.0.0-RC1/')));
      await check('github.com/TestOrg/Upper', 'v1.0.0-rc1', { version: 'v1.0.0-rc1' });
      await check('github.com/TestOrg/Upper', 'latest', { version: 'v1.0.0-rc1' });
    });

    it('case 3: noinc v2.0.0+incompatible.info with a literal + (and v2.0.0.info) answer v2.0.0+incompatible', async () => {
      for (const file of ['@v/v2.0.0+incompatible.info', '@v/v2.0.0.info']) {
        const res = await raw('noinc', file);
        assert.equal(res.status, 200, `${file}: ${res.text}`);
        assert.equal((JSON.parse(res.text) as { Version: string }).Version, 'v2.0.0+incompatible', file);
      }
    });

    it('case 4: bad escapes are 400/404, never 200 or 5xx', async () => {
      const base = `/api/v4/projects/${projectOf('basic')}/packages/go`;
      for (const path of [
        '/github.com/TestOrg/x/@v/list',
        '/github.com/testorg/b%211asic/@v/list',
        '/github.com/testorg/basic!/@v/list',
        '/github.com/testorg/basic%C3%A9/@v/list',
        '/github.com/testorg/basic/@v/v1.0.0-!R.info',
        '/github.com/testorg/basic/@v/v1.0.0-RC1.info',
      ]) {
        const res = await server.request(base + path);
        assert.ok(res.status === 400 || res.status === 404 || res.status === 410, `${path}: ${res.status} ${res.text}`);
      }
    });

    it('cases 6–7: .info Time is the committer time in UTC with whole seconds (dates: 2023-06-07T15:09:10Z)', async () => {
      const res = await raw('dates', '@v/v1.0.0.info');
      assert.equal(res.status, 200, res.text);
      const info = JSON.parse(res.text) as { Version: string; Time: string };
      assert.equal(info.Version, 'v1.0.0');
      assert.equal(info.Time, '2023-06-07T15:09:10Z');
      await check('dates', 'v1.0.0', { version: 'v1.0.0', time: '2023-06-07T15:09:10Z' });
    });

    it('case 8: status codes and GOPROXY fallback (`,` vs `|`) with our proxy as the next entry', async () => {
      const status = { code: 404 };
      const stub = await startStubServer((_req, res) => {
        res.writeHead(status.code, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`custom error ${status.code}\n\nhidden\n`);
      });
      try {
        const good = server.goproxy(projectOf('basic'));
        const direct = await go.modDownload(`${M('basic')}@v1.0.0`, DIRECT);
        for (const code of [404, 410, 401, 403, 500]) {
          status.code = code;
          for (const sep of [',', '|']) {
            const r = await go.modDownload(`${M('basic')}@v1.0.0`, { goproxy: `${stub.url}${sep}${good}`, netrc: null });
            const fallsBack = code === 404 || code === 410 || sep === '|';
            if (fallsBack) {
              assert.ok(r.ok, `${code} with '${sep}': expected a fallback to our proxy: ${r.Error}${tail()}`);
              assert.equal(r.Sum, direct.Sum);
            } else {
              assert.equal(r.ok, false, `${code} with '${sep}' must be a hard error`);
              assert.match(r.Error ?? '', new RegExp(`server response: custom error ${code}`));
              assert.doesNotMatch(r.Error ?? '', /hidden/);
            }
          }
        }
      } finally {
        await stub.close();
      }
    });

    it('case 10: /sumdb/sum.golang.org/supported under the GOPROXY base answers 404', async () => {
      const res = await server.request(`/api/v4/projects/${projectOf('basic')}/packages/go/sumdb/sum.golang.org/supported`);
      assert.ok(res.status === 404 || res.status === 410, `${res.status} ${res.text}`);
    });

    it('case 11: untagged repo: list is 200 and empty, @latest is the pseudo-version of HEAD', async () => {
      const r = repo('notags');
      const list = await raw('notags', '@v/list');
      assert.equal(list.status, 200);
      assert.equal(list.text.trim(), '');
      const latest = await raw('notags', '@latest');
      assert.equal(latest.status, 200, latest.text);
      assert.deepEqual(JSON.parse(latest.text), {
        Version: `v0.0.0-20220506050809-${r.short('c1')}`,
        Time: '2022-05-06T05:08:09Z',
      });
    });

    it('case 12: list never contains pseudo-version-shaped tags', async () => {
      assert.deepEqual(await listLines('pseudo'), ['v1.0.0', 'v1.1.0-rc.1']);
    });

    it('case 13: a path that is not a module (mono/sub): list 200-empty or 404, @latest 404, never 5xx', async () => {
      const list = await raw('mono/sub', '@v/list');
      assert.ok(
        (list.status === 200 && list.text.trim() === '') || list.status === 404 || list.status === 410,
        `${list.status} ${list.text}`,
      );
      await expectNotFound('mono/sub', '@latest');
      await expectNotFound('mono/sub', '@v/v1.0.0.info');
      await check('mono/sub', 'latest', { fails: true });
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('Versions / .info resolution (cases 22–38)', () => {
    it('case 22: mono lists: root [v1.0.0], sub/dir [v1.0.0] (non-canonical sub/dir/v1.1 dropped), v2, lic', async () => {
      await check('mono/sub/dir', 'v1.1', { fails: /no matching versions/ });
      assert.deepEqual(await listLines('mono/sub/dir'), ['v1.0.0']);
      assert.deepEqual(await listLines('mono/lic'), ['v0.1.0']);
      assert.deepEqual(await listLines('mono/v2'), ['v2.0.0']);
      assert.deepEqual(await listLines('mono'), ['v1.0.0']);
    });

    it('case 23: mono/v2@v2.0.0 comes from v2/ with the root LICENSE, Sum h1:NzoT…', async () => {
      await check('mono/v2', 'v2.0.0', {
        version: 'v2.0.0',
        sum: 'h1:NzoT+bzythDhkxVTrnWrcvMTkq+inItW1TvjeAMhcA8=',
        files: ['LICENSE', 'go.mod', 'm.go'],
      });
    });

    it('case 24: mono@v2.0.0 → 404, module contains a go.mod file, so module path must match major version', async () => {
      await check('mono', 'v2.0.0', { fails: /module path must match major version/ });
      await expectNotFound('mono', '@v/v2.0.0.info', /module path must match major version/);
    });

    it('case 25: noinc list, @latest, v2.0.0 → +incompatible, legacy .mod', async () => {
      const goModSum = 'h1:3MnBj7QHwLIlECkcL43xGZHs5rciUU4W21LIO8sfeUY=';
      await check('noinc', 'v2.0.0', { version: 'v2.0.0+incompatible', goModSum });
      await check('noinc', 'v2.1.0-beta.1+incompatible', { version: 'v2.1.0-beta.1+incompatible', goModSum });
      await check('noinc', 'v1.0.0', { version: 'v1.0.0', goModSum });
      await check('noinc', 'latest', { version: 'v3.0.0+incompatible', goModSum });
      assert.deepEqual(await listLines('noinc'), ['v1.0.0', 'v2.0.0+incompatible', 'v2.1.0-beta.1+incompatible', 'v3.0.0+incompatible']);
    });

    it('case 26: noinc@main and its pseudo-version get +incompatible; noinc/v2@v2.0.0 is missing its go.mod', async () => {
      const want = `v3.0.1-0.20190401000000-${repo('noinc').short('c5')}+incompatible`;
      await check('noinc', 'main', { version: want });
      await check('noinc', `v3.0.1-0.20190401000000-${repo('noinc').short('c5')}`, { version: want });
      await check('noinc/v2', 'v2.0.0', { fails: /missing .*go\.mod/ });
      await expectNotFound('noinc/v2', '@v/v2.0.0.info', /missing/);
    });

    it('case 27: a root go.mod at the latest v1 tag hides +incompatible versions (golang/go#34189)', async () => {
      await check('inca', 'v2.0.0+incompatible', { version: 'v2.0.0+incompatible' });
      await check('inca', 'latest', { version: 'v1.0.0' });
      assert.deepEqual(await listLines('inca'), ['v1.0.0']);
    });

    it('case 27: v2.0.0 with v2/go.mod but no root go.mod: root v2.0.0 fails, v2.0.0+incompatible works (golang/go#51324)', async () => {
      await check('incb', 'v2.0.0', { fails: true });
      await check('incb', 'v2.0.0+incompatible', { version: 'v2.0.0+incompatible' });
      await check('incb/v2', 'v2.0.0', { version: 'v2.0.0', files: ['b.go', 'go.mod'] });
    });

    it('case 28: pseudo: list, @latest, branch/HEAD/vfoo/+meta/hash queries, @v1.2', async () => {
      const r = repo('pseudo');
      const head = `v1.3.1-0.20210104100000-${r.short('c4')}`;
      await check('pseudo', 'latest', { version: 'v1.0.0' });
      for (const q of ['main', 'vfoo', 'v1.3.0+meta', 'HEAD', r.oid('c4').slice(0, 7)]) await check('pseudo', q, { version: head });
      await check('pseudo', r.short('c3'), { version: 'v1.1.0-rc.1' });
      await check('pseudo', r.short('c1'), { version: `v0.0.0-20210101100000-${r.short('c1')}` });
      await check('pseudo', 'v1.2', { fails: /no matching versions/ });
      // Not semver, so it is a plain revision: the tag v01.4.0 on HEAD.
      await check('pseudo', 'v01.4.0', { version: head });
    });

    it('case 29: hash prefixes: 6 hex or upper-case → unknown revision; 7–40 lower-case hex resolve', async () => {
      const r = repo('pseudo');
      const c1 = r.oid('c1');
      await check('pseudo', c1.slice(0, 6), { fails: /unknown revision/ });
      await check('pseudo', c1.slice(0, 12).toUpperCase(), { fails: /unknown revision/ });
      await expectNotFound('pseudo', `@v/${c1.slice(0, 6)}.info`, /unknown revision/);
      for (const n of [7, 12, 40]) await check('pseudo', c1.slice(0, n), { version: `v0.0.0-20210101100000-${r.short('c1')}` });
    });

    it('case 30: notags2/v2@latest → v2.0.0-20220506070809-<hash>', async () => {
      await check('notags2/v2', 'latest', { version: `v2.0.0-20220506070809-${repo('notags2').short('c1')}` });
    });

    it('case 31: Upper@Feature → v1.0.0-rc1.0.20200102030405-<hash> (rc1 > RC1)', async () => {
      await check('github.com/TestOrg/Upper', 'Feature', { version: `v1.0.0-rc1.0.20200102030405-${repo('Upper').short('c2')}` });
    });

    it('case 32: a +02:00 committer offset gives a UTC pseudo timestamp (notags@latest, @main)', async () => {
      const want = `v0.0.0-20220506050809-${repo('notags').short('c1')}`;
      await check('notags', 'latest', { version: want, time: '2022-05-06T05:08:09Z' });
      await check('notags', 'main', { version: want });
    });

    it('case 33: dates@main (tagged v1.0.0 and v1.0.1) → v1.0.1', async () => {
      await check('dates', 'main', { version: 'v1.0.1' });
    });

    it('case 34: retr: retracted v1.1.0 commit → pseudo-version, @v1.1.0 still v1.1.0, @main, @latest', async () => {
      const r = repo('retr');
      await check('retr', r.short('B'), { version: `v1.0.1-0.20210102000000-${r.short('B')}` });
      await check('retr', 'v1.1.0', { version: 'v1.1.0' });
      await check('retr', 'main', { version: `v1.2.1-0.20210104000000-${r.short('D')}` });
      await check('retr', 'latest', { version: 'v1.2.0' });
    });

    it('case 35: a branch named v9.9.9 is not a version: .info 404 "is not a tag"', async () => {
      await check('pseudo', 'v9.9.9', { fails: /v9\.9\.9 is not a tag/ });
      await expectNotFound('pseudo', '@v/v9.9.9.info', /is not a tag/);
    });

    it('case 36: invalid pseudo-versions → 404 with the reason; valid non-highest bases → 200, same Sum as direct', async () => {
      const r = repo('pseudo');
      const c1 = r.short('c1');
      const c1long = r.oid('c1').slice(0, 13);
      const c2 = r.short('c2');
      const c4 = r.short('c4');
      const bad: Array<[string, RegExp]> = [
        [`v0.0.0-20210101100001-${c1}`, /does not match version-control timestamp/],
        [`v0.0.0-20210101100000-${c1.slice(0, 7)}`, /revision is shorter than canonical/],
        [`v0.0.0-20210101100000-${c1long}`, /revision is longer than canonical/],
        [`v1.1.1-0.20210101100000-${c1}`, /preceding tag \(v1\.1\.0\) not found/],
        [`v1.0.0-20210101100000-${c1}`, /major version without preceding tag must be v0, not v1/],
        [`v1.0.1-0.20210102100000-${c2}`, /already canonical/],
        [`v2.0.0-20210101100000-${c1}`, /module path must match major version/],
        [`v0.0.0-0.20210101100000-${c1}`, /negative patch number/],
      ];
      for (const [version, reason] of bad) {
        await check('pseudo', version, { fails: reason });
        await expectNotFound('pseudo', `@v/${version}.info`, reason);
      }
      for (const version of [`v1.0.1-0.20210104100000-${c4}`, `v0.0.0-20210104100000-${c4}`, `v1.1.0-rc.1.0.20210104100000-${c4}`]) {
        await check('pseudo', version, { version });
      }
    });

    it('case 37: a commit reachable only from refs/pull/1/head is unknown', async () => {
      const r = repo('pull');
      await check('pull', r.short('c2'), { fails: true });
      await check('pull', r.oid('c2'), { fails: true });
      await expectNotFound('pull', `@v/${r.short('c2')}.info`);
    });

    it('case 38: mis: foreign module line is served, post-v1 path is 404 but still listed, nomod is missing', async () => {
      const { proxy } = await check('mis', 'v1.0.0', { version: 'v1.0.0' });
      assert.equal(proxy.mod?.toString(), 'module example.com/other\n');
      await check('mis', 'v1.1.0', { fails: /has post-v1 module path/ });
      await expectNotFound('mis', '@v/v1.1.0.info', /post-v1 module path/);
      assert.deepEqual(await listLines('mis'), ['v1.0.0', 'v1.1.0']);
      await check('mis/nomod', 'v1.0.0', { fails: /missing .*go\.mod/ });
      await expectNotFound('mis/nomod', '@v/v1.0.0.info', /missing/);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('.mod (cases 39–40)', () => {
    it('case 39: crlf: .mod is the raw LF blob (GoModSum h1:LOP5…), the zip go.mod is CRLF (Sum h1:T7W5…)', async () => {
      const { proxy } = await check('crlf', 'v1.0.0', {
        version: 'v1.0.0',
        goModSum: 'h1:LOP5hnUqVf24lsdn8Xgc2CuKmjKnbh64K1tmJjQ7YPg=',
        sum: 'h1:T7W5WxuG37opArXjMyKBBzfF60tz3dqNuz/e/YjUKOc=',
        files: ['.gitattributes', 'a.go', 'go.mod'],
      });
      assert.equal(proxy.mod?.toString(), 'module github.com/testorg/crlf\n\ngo 1.16\n');
      assert.equal(
        proxy.zip?.get('github.com/testorg/crlf@v1.0.0/go.mod')?.toString(),
        'module github.com/testorg/crlf\r\n\r\ngo 1.16\r\n',
      );
      const res = await raw('crlf', '@v/v1.0.0.mod');
      assert.equal(res.text, 'module github.com/testorg/crlf\n\ngo 1.16\n');
    });

    it('case 40: legacy go.mod is exactly "module <path>\\n"', async () => {
      const res = await raw('noinc', '@v/v1.0.0.mod');
      assert.equal(res.status, 200);
      assert.equal(res.text, 'module github.com/testorg/noinc\n');
      assert.equal(goModHash(res.body), 'h1:3MnBj7QHwLIlECkcL43xGZHs5rciUU4W21LIO8sfeUY=');
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('Zip content (cases 41–54)', () => {
    it('case 41: basic@v1.0.0 → Sum h1:gMnQ… with the 12 expected files', async () => {
      const { proxy } = await check('basic', 'v1.0.0', {
        version: 'v1.0.0',
        sum: 'h1:gMnQE9ZP5yY/pIyUaXfrGXqrW5L2v5UgFM+I4AexU7M=',
        goModSum: 'h1:kp4xutX9N3x517S3A5QizefrYFA/Ny3s1O6QL9SOrQA=',
        files: [
          '.gitattributes',
          'LICENSE',
          'a b.txt',
          'a.go',
          'crlf.txt',
          'go.mod',
          'ident.txt',
          'ignored.txt',
          'subst.txt',
          'testdata/x.json',
          'vendor/modules.txt',
          'vendor/top.go',
        ],
      });
      const file = (n: string) => proxy.zip?.get(`github.com/testorg/basic@v1.0.0/${n}`)?.toString();
      assert.equal(file('crlf.txt'), 'line1\r\nline2\r\n');
      assert.equal(file('ident.txt'), '$Id: 055c8729cdcc372500a08db659c045e16c4409fb $\n');
      assert.equal(file('subst.txt'), 'commit $Format:%H$\n');
      await check('basic', 'latest', { version: 'v1.0.0' });
    });

    it('case 42: edge: vendor/symlink/gitlink/empty/executable rules', async () => {
      await check('edge', 'v1.0.0', {
        version: 'v1.0.0',
        files: ['.gitmodules', 'b/vendor', 'empty', 'exe.sh', 'go.mod', 'real.mod', 'subl/x.go', 'vendorx/a.go'],
      });
    });

    it('case 43: names whose zip Go refuses to build → .zip 404 while .info/.mod are 200', async () => {
      for (const v of ['v0.1.0', 'v0.2.0', 'v0.3.0', 'v0.6.0', 'v0.7.0', 'v0.9.0']) {
        await check('names', v, { fails: /create zip|zip/ });
        const info = await raw('names', `@v/${v}.info`);
        assert.equal(info.status, 200, `${v}.info: ${info.text}`);
        const gomod = await raw('names', `@v/${v}.mod`);
        assert.equal(gomod.status, 200, `${v}.mod: ${gomod.text}`);
        assert.equal(gomod.text, 'module github.com/testorg/names\n');
        await expectNotFound('names', `@v/${v}.zip`);
      }
    });

    it('cases 44–47: names vectors (UTF-8 byte sort, nested GO.MOD, dot files, directory named go.mod)', async () => {
      await check('names', 'v0.4.0', { sum: 'h1:sJY4goW5RSVDm/J80Zf0WiAOMV/rUx0b7d5FLe1Yz4E=' });
      await check('names', 'v0.5.0', { sum: 'h1:6aKl6IVpIP62dWErXt1LVMAk/CK7rXLdAzfjVwxG0BI=', files: ['go.mod'] });
      await check('names', 'v0.8.0', {
        sum: 'h1:sstaCx3S1FpSbF7oNABuZCGE3zWTvNqgJ7a61TlV9fw=',
        files: ['.git2/x', '.hg/x', '.hidden', 'd/.hg_archival.txt', 'file~1.go', 'go.mod'],
      });
      await check('names', 'v0.10.0', { sum: 'h1:tNXG+8xVc7TxbIuKS8jBTm8DI+0wJBBpfpmPmN+qIbI=', files: ['a/go.mod/f.go', 'go.mod'] });
    });

    it('case 48: root LICENSE is inherited by sub/dir and v2 modules, lic keeps its own (§4.3 vectors)', async () => {
      await check('mono', 'v1.0.0', { sum: 'h1:mjDSj4NOcKhYt/5Skcs0qgfr4R+yPDIQdwo6DjeHEaY=', files: ['LICENSE', 'go.mod', 'm.go'] });
      const { proxy } = await check('mono/sub/dir', 'v1.0.0', {
        sum: 'h1:ycUrQAynRUmvZ+1AvXSkQ0mAOc1inG/3h6hRzjikPds=',
        files: ['LICENSE', 'd.go', 'go.mod'],
      });
      assert.equal(proxy.zip?.get('github.com/testorg/mono/sub/dir@v1.0.0/LICENSE')?.toString(), 'ROOT LICENSE\n');
      await check('mono/lic', 'v0.1.0', { sum: 'h1:0TYmQXlYG//RILe24wdPPhOc09Qr4HsfdhNTXaaRzMY=', files: ['LICENSE', 'go.mod'] });
      await check('mono/sub/dir', 'main', { version: `v1.0.1-0.20200201000000-${repo('mono').short('c2')}` });
    });

    it('case 48: crlf/sub@v1.0.0 inherits the root LICENSE raw (LF) while its own files become CRLF', async () => {
      const { proxy } = await check('crlf/sub', 'v1.0.0', { version: 'v1.0.0', files: ['LICENSE', 'go.mod', 's.go'] });
      const file = (n: string) => proxy.zip?.get(`github.com/testorg/crlf/sub@v1.0.0/${n}`)?.toString();
      assert.equal(file('LICENSE'), 'LICENSE TEXT\nsecond line\n');
      assert.equal(file('s.go'), 'package sub\r\n\r\nfunc S() {}\r\n');
    });

    it('case 49: a subdirectory module whose LICENSE is a symlink gets no LICENSE at all', async () => {
      await check('symlic/sub', 'v1.0.0', { version: 'v1.0.0', files: ['go.mod', 's.go'] });
    });

    it('case 52: vendor rule at go 1.23 is the old rule (parity with Go 1.19)', async () => {
      await check('vend', 'v1.0.0', { version: 'v1.0.0', files: ['a.go', 'go.mod', 'vendor/modules.txt'] });
    });

    it('case 52: vendor rule at go 1.24 is the new rule (Go ≥1.24 semantics; Go 1.19 direct mode differs on purpose)', async () => {
      const proxy = await go.modDownload(`${M('vend')}@v1.24.0`, viaProxy('vend'));
      assert.ok(proxy.ok, `${proxy.Error}${tail()}`);
      assert.deepEqual(zipFileNames(proxy), ['a.go', 'go.mod', 'pkg/vendor/a.go']);
    });

    it('case 53: a root go.mod over 16 MiB → .zip refused (.info still 200)', async () => {
      await check('big', 'v1.0.0', { fails: true });
      const info = await raw('big', '@v/v1.0.0.info');
      assert.equal(info.status, 200, info.text);
      await expectNotFound('big', '@v/v1.0.0.zip');
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('go list -m -versions parity for every module', () => {
    const modules = [
      'basic',
      'mono',
      'mono/sub/dir',
      'mono/v2',
      'mono/lic',
      'noinc',
      'pseudo',
      'notags',
      'notags2/v2',
      'github.com/TestOrg/Upper',
      'dates',
      'retr',
      'mis',
      'crlf',
      'crlf/sub',
      'names',
      'edge',
      'vend',
      'inca',
      'incb',
      'incb/v2',
      'symlic/sub',
      'pull',
    ];
    for (const m of modules) {
      it(`go list -m -versions ${m}`, async () => {
        const [direct, proxy] = await Promise.all([go.listVersions(M(m), DIRECT), go.listVersions(M(m), viaProxy(m))]);
        if (!direct.ok) {
          assert.equal(proxy.ok, false, `direct failed (${direct.error}) but the proxy listed ${proxy.versions.join(' ')}`);
          return;
        }
        assert.ok(proxy.ok, `${proxy.error}${tail()}`);
        assert.deepEqual(proxy.versions, direct.versions);
      });
    }
  });

  // ---------------------------------------------------------------------------------------------
  describe('go get M@<branch|hash|latest> in a scratch module', () => {
    const gets: Array<[module: string, label: string, query: () => string]> = [
      ['pseudo', 'main', () => 'main'],
      ['pseudo', '<hash of v1.1.0-rc.1>', () => repo('pseudo').short('c3')],
      ['pseudo', 'latest', () => 'latest'],
      ['retr', 'latest', () => 'latest'],
      ['noinc', 'latest', () => 'latest'],
      ['noinc', 'main', () => 'main'],
      ['mono/sub/dir', 'main', () => 'main'],
      ['notags', 'latest', () => 'latest'],
      ['github.com/TestOrg/Upper', 'Feature', () => 'Feature'],
    ];
    for (const [m, label, q] of gets) {
      it(`go get ${m}@${label}`, async () => {
        const query = `${M(m)}@${q()}`;
        const [direct, proxy] = await Promise.all([go.goGet(query, DIRECT), go.goGet(query, viaProxy(m))]);
        assert.ok(direct.ok, `direct: ${direct.stderr}`);
        assert.ok(proxy.ok, `proxy: ${proxy.stderr}${tail()}`);
        assert.equal(proxy.required, direct.required);
        assert.deepEqual(proxy.goSum, direct.goSum);
      });
    }
  });

  // ---------------------------------------------------------------------------------------------
  describe('immutability (issue 3 item 8)', () => {
    it('a tag moved after it was served does not change the served .mod/.zip (cache configured)', async () => {
      const r = repo('moved');
      const first = await go.modDownload(`${M('moved')}@v1.0.0`, viaProxy('moved'));
      assert.ok(first.ok, `${first.Error}${tail()}`);
      await run('git', ['update-ref', 'refs/tags/v1.0.0', r.oid('c2')], { env: world.gitEnv, cwd: r.gitdir });
      const direct = await go.modDownload(`${M('moved')}@v1.0.0`, DIRECT);
      assert.ok(direct.ok, direct.Error);
      assert.notEqual(direct.Sum, first.Sum, 'fixture: moving the tag must change what direct mode computes');
      const again = await go.modDownload(`${M('moved')}@v1.0.0`, viaProxy('moved'));
      assert.ok(again.ok, `${again.Error}${tail()}`);
      assert.equal(again.Sum, first.Sum, 'the proxy served different zip content for an already-served version');
      assert.equal(again.GoModSum, first.GoModSum);
    });
  });

  it('the server never logs a repository path', () => {
    server.assertLogsClean([world.reposDir]);
  });
});
