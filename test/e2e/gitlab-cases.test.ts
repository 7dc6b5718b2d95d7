/**
 * GitLab's own spec cases (gitlab-api.md §5, fixtures A–D and the derived cases D1–D16), run
 * against our server, ADAPTED where the product follows Go instead of GitLab. decisions.md: we
 * follow Go's direct mode for content (versions, go.mod, zips, pseudo-versions, times) and GitLab
 * for the API surface (routes, `:id`, statuses, credentials), with the product's own credential
 * rule (invalid credentials → 404, no credentials on a non-public project → 401).
 *
 * Each test says which rule differs from GitLab and why. Where content is concerned, the expected
 * value is checked against the real `go` in direct mode on the same repository (go-modules.md §7),
 * so the adaptation is not our opinion but what `go` computes.
 *
 * The module prefix is `github.com` (GitLab: its host) so that direct mode can reach the same
 * repositories through the git `insteadOf` rule; `<base>` = `github.com/testorg/<project>`.
 *
 * Not applicable, so not tested: the EE IP-restriction cases 47–49 (no group IP rules here); the
 * `go_proxy` feature flag (case 6, D11); OAuth and CI job tokens (cases 35, 36, 39, 44) and the
 * `?private_token=` query parameter (37, 42): the product accepts PATs through Basic auth,
 * `PRIVATE-TOKEN` and `Authorization: Bearer` only (decisions.md "Token forms"), tested instead;
 * model-internal cases 70–73 and 77–78 (`path_valid?`, `gomod_valid?`, the golang package-row
 * shortcut) have no HTTP surface of their own — their observable effects are in the list/info cases.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BuiltRepo, type CommitSpec, createFixtureWorld, type FixtureWorld, type TreeSpec } from '../helpers/fixtures.js';
import {
  createSelfSignedCert,
  DIRECT,
  type DownloadResult,
  diffDownloads,
  GoClient,
  type GoMode,
  goSkipReason,
  writeNetrc,
  zipFileNames,
} from '../helpers/go-client.js';
import { type HttpResponse, type ProxyServer, startProxy } from '../helpers/proxy-process.js';

const skip = await goSkipReason();

// ------------------------------------------------------------------------------------------------
// GitLab's Go commit factory (spec/factories/go_module_commits.rb), as cumulative trees

const HI = 'package a\nfunc Hi() { println("Hello world!") }\n';
const BYE = 'package b\nfunc Bye() { println("Goodbye world!") }\n';
const moduleFiles = (base: string, name?: string, url?: string): TreeSpec => {
  const dir = name ? `${name}/` : '';
  return { [`${dir}go.mod`]: `module ${url ?? (name ? `${base}/${name}` : base)}\n`, [`${dir}a.go`]: HI };
};
const packageFiles = (path: string): TreeSpec => ({ [`${path}/b.go`]: BYE });

interface Step {
  add: TreeSpec;
  date: string;
  tags?: string[];
  label?: string;
}

/** Every factory call is a commit on the default branch that ADDS files to the previous tree. */
function factoryCommits(steps: Step[]): CommitSpec[] {
  let tree: TreeSpec = {};
  return steps.map((s) => {
    tree = { ...tree, ...s.add };
    return { tree: { ...tree }, date: s.date, ...(s.tags ? { tags: s.tags } : {}), ...(s.label ? { label: s.label } : {}) };
  });
}

const BASE_A = 'github.com/testorg/my-go-lib';
const BASE_B = 'github.com/testorg/gl-invalid-directive';
const BASE_C = 'github.com/testorg/MyGoLib';
const BASE_D = 'github.com/testorg/gl-version-finder';
const BASE_E = 'github.com/testorg/gl-zip';

const ID = { A: 11, B: 12, C: 13, D: 14, E: 15 } as const;

const PAT = `glpat-${randomBytes(10).toString('hex')}`;
const READ_REPO_PAT = `glpat-${randomBytes(10).toString('hex')}`;
const OUTSIDER_PAT = `glpat-${randomBytes(10).toString('hex')}`;
const EXPIRED_PAT = `glpat-${randomBytes(10).toString('hex')}`;
const REVOKED_PAT = `glpat-${randomBytes(10).toString('hex')}`;
const UNKNOWN_PAT = `glpat-${randomBytes(10).toString('hex')}`;

const basic = (user: string, token: string) => `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;
const DEV = { Authorization: basic('developer', PAT) };

describe("GitLab's go_proxy spec cases, adapted to Go's rules (gitlab-api.md §5)", { skip: skip ?? false }, () => {
  let world: FixtureWorld;
  let server: ProxyServer;
  let go: GoClient;
  let netrc: string;
  let A: BuiltRepo;
  let D: BuiltRepo;

  /** `/api/v4/projects/<id>/packages/go/<module>/<rest>` with `!`-escaping; `id` may be a path. */
  async function api(
    id: number | string,
    modulePath: string,
    rest: string,
    options: { headers?: Record<string, string>; method?: 'GET' | 'HEAD'; escape?: boolean } = {},
  ): Promise<HttpResponse> {
    const module = options.escape === false ? modulePath : modulePath.replace(/[A-Z]/g, (c) => '!' + c.toLowerCase());
    return server.request(`/api/v4/projects/${id}/packages/go/${module}/${rest}`, {
      method: options.method ?? 'GET',
      headers: options.headers ?? DEV,
    });
  }

  const listOf = (res: HttpResponse) =>
    res.text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  const tail = () => `\n--- last server output ---\n${server.output().trim().split('\n').slice(-10).join('\n')}`;

  function assertStatus(res: HttpResponse, status: number | number[], what: string): void {
    const want = Array.isArray(status) ? status : [status];
    assert.ok(want.includes(res.status), `${what}: expected ${want.join('/')}, got ${res.status}: ${res.text.slice(0, 300)}`);
  }

  /** Credentials only for the private projects, so content cases on public ones do not depend on auth rules. */
  const projectMode = (id: number): GoMode => ({
    goproxy: server.goproxy(id),
    netrc: id === ID.A || id === ID.D ? netrc : null,
    label: 'proxy',
  });

  /** Direct mode vs our proxy for one query; returns both. */
  async function parity(id: number, query: string): Promise<{ direct: DownloadResult; proxy: DownloadResult }> {
    const pair = await go.compareWithDirect(query, projectMode(id));
    const diffs = diffDownloads(pair.direct, pair.proxy);
    assert.deepEqual(
      diffs,
      [],
      `${query}: proxy differs from direct mode\n${diffs.join('\n')}\nproxy error: ${pair.proxy.Error ?? '-'}${tail()}`,
    );
    return pair;
  }

  /** What direct mode lists for a module (the Go rule our `list` must follow). */
  async function directList(modulePath: string): Promise<string[]> {
    const r = await go.listVersions(modulePath, DIRECT);
    assert.ok(r.ok, `direct mode list ${modulePath}: ${r.error}`);
    return r.versions;
  }

  before(async () => {
    world = await createFixtureWorld('goproxy-gitlab-');
    // Fixture A, "basic Go module" (+ the Go-style tag mod/v1.0.3, see case 8).
    A = await world.build({
      name: 'my-go-lib',
      commits: factoryCommits([
        { add: { 'README.md': 'Hi' }, tags: ['v1.0.0'], date: '2020-05-20T10:00:00Z' },
        { add: moduleFiles(BASE_A), tags: ['v1.0.1'], date: '2020-05-21T10:00:00Z' },
        { add: packageFiles('pkg'), tags: ['v1.0.2'], date: '2020-05-22T10:00:00Z' },
        { add: moduleFiles(BASE_A, 'mod'), tags: ['v1.0.3', 'mod/v1.0.3'], date: '2020-05-23T10:00:00Z' },
        { add: { 'y.go': 'package a\n' }, label: 'c5', date: '2020-05-24T10:00:00Z' },
        { add: moduleFiles(BASE_A, 'v2'), label: 'c6', date: '2020-05-25T22:30:00+02:00' },
        { add: { 'v2/x.go': 'package a\n' }, tags: ['v2.0.0'], date: '2020-05-26T10:00:00Z' },
      ]),
      branches: { 'v9.9.9': 'c5' },
    });
    // D12: a tag shaped like a pseudo-version on a commit with a valid go.mod.
    await world.git(['update-ref', `refs/tags/v1.5.0-0.20200524100000-${A.short('c5')}`, A.oid('c5')], { cwd: A.gitdir });
    // Fixture B, "with an invalid module directive" (public).
    await world.build({
      name: 'gl-invalid-directive',
      commits: factoryCommits([
        { add: { 'a.go': 'package\x07' }, date: '2020-06-01T00:00:00Z' }, // Ruby "package\a": \a is BEL
        { add: { 'go.mod': 'module not/a/real/module\n' }, tags: ['v1.0.0'], date: '2020-06-02T00:00:00Z' },
        { add: { 'v2/a.go': 'package a\n' }, date: '2020-06-03T00:00:00Z' },
        { add: { 'v2/go.mod': `module ${BASE_B}\n` }, tags: ['v2.0.0'], date: '2020-06-04T00:00:00Z' },
      ]),
    });
    // Fixture C, "case sensitive project" (public).
    await world.build({
      name: 'MyGoLib',
      commits: factoryCommits([
        { add: { 'README.md': 'Hi' }, date: '2020-07-01T00:00:00Z' },
        { add: moduleFiles(BASE_C), tags: ['v1.0.1-prerelease'], date: '2020-07-02T00:00:00-05:00' },
        { add: packageFiles('pkg'), tags: ['v1.0.1-Prerelease'], date: '2020-07-03T00:00:00+09:00' },
      ]),
    });
    // Fixture D (version_finder_spec), default branch master.
    D = await world.build({
      name: 'gl-version-finder',
      defaultBranch: 'master',
      refsLayout: 'packed',
      commits: factoryCommits([
        { add: { 'README.md': 'Hi' }, tags: ['v1.0.0'], date: '2020-08-01T00:00:00Z' },
        { add: moduleFiles(BASE_D), tags: ['v1.0.1'], date: '2020-08-02T00:00:00Z' },
        { add: packageFiles('pkg'), tags: ['v1.0.2'], date: '2020-08-03T00:00:00Z' },
        { add: moduleFiles(BASE_D, 'mod'), tags: ['v1.0.3'], date: '2020-08-04T00:00:00Z' },
        { add: moduleFiles(BASE_D, 'bad-mod', 'example.com/go-lib'), tags: ['v1.0.4'], date: '2020-08-05T00:00:00Z' },
        { add: { 'y.go': 'package a\n' }, label: 'commit_file_y', date: '2020-08-06T00:00:00Z' },
        { add: moduleFiles(BASE_D, 'v2'), label: 'commit_mod_v2', date: '2020-08-07T00:00:00Z' },
        { add: { 'v2/x.go': 'package a\n' }, tags: ['v2.0.0'], label: 'head', date: '2020-08-08T00:00:00Z' },
      ]),
    });
    // D15: vendor/, dot file, symlink, nested module, under Go's zip rules.
    await world.build({
      name: 'gl-zip',
      commits: [
        {
          date: '2020-09-01T00:00:00Z',
          tags: ['v1.0.0'],
          tree: {
            ...moduleFiles(BASE_E),
            '.gitignore': '*.o\n',
            'vendor/modules.txt': '# modules\n',
            'vendor/x/y.go': 'package y\n',
            'link.go': { symlink: 'a.go' },
            'sub/go.mod': `module ${BASE_E}/sub\n`,
            'sub/s.go': 'package sub\n',
          },
        },
      ],
    });

    const cert = await createSelfSignedCert(join(world.root, 'tls'));
    const repoDir = (name: string) => join(world.reposDir, 'testorg', name);
    server = await startProxy({
      dir: join(world.root, 'server'),
      tls: { cert: cert.certFile, key: cert.keyFile },
      projects: [
        { id: ID.A, path: 'testorg/my-go-lib', repository: repoDir('my-go-lib'), visibility: 'private' },
        { id: ID.B, path: 'testorg/gl-invalid-directive', repository: repoDir('gl-invalid-directive'), visibility: 'public' },
        { id: ID.C, path: 'testorg/MyGoLib', repository: repoDir('MyGoLib'), visibility: 'public' },
        { id: ID.D, path: 'testorg/gl-version-finder', repository: repoDir('gl-version-finder'), visibility: 'private' },
        { id: ID.E, path: 'testorg/gl-zip', repository: repoDir('gl-zip'), visibility: 'public' },
      ],
      users: [
        { username: 'developer', projects: [ID.A, ID.D], tokens: [{ token: PAT, scopes: ['api'] }] },
        { username: 'repo-reader', projects: [ID.A], tokens: [{ token: READ_REPO_PAT, scopes: ['read_repository'] }] },
        { username: 'outsider', projects: [ID.E], tokens: [{ token: OUTSIDER_PAT, scopes: ['read_api'] }] },
        {
          username: 'stale',
          projects: [ID.A],
          tokens: [
            { token: EXPIRED_PAT, scopes: ['read_api'], expiresAt: '2020-01-01' },
            { token: REVOKED_PAT, scopes: ['read_api'], revoked: true },
          ],
        },
      ],
    });
    go = new GoClient({ world, certFile: cert.certFile });
    netrc = await writeNetrc(join(world.root, 'netrc'), [{ host: '127.0.0.1', port: server.port, login: 'developer', password: PAT }]);
  });

  after(async () => {
    await server?.stop();
    await world?.dispose();
  });

  // ---------------------------------------------------------------------------------------------
  describe('spec/requests/api/go_proxy_spec.rb, fixture A: list (cases 1–5)', () => {
    it('case 1: list <base> — Go also lists v1.0.0 (no go.mod there: Go serves it with a synthesized go.mod)', async () => {
      // GitLab: {v1.0.1, v1.0.2, v1.0.3}; it drops v1.0.0 because it has no go.mod. Go's direct mode
      // lists every canonical root tag (go-modules.md §3.3) and only drops v2.0.0 because the latest
      // v1 tag has a go.mod (golang/go#34189). Content follows Go (decisions.md).
      const res = await api(ID.A, BASE_A, '@v/list');
      assertStatus(res, 200, 'list');
      assert.deepEqual(listOf(res), ['v1.0.0', 'v1.0.1', 'v1.0.2', 'v1.0.3']);
      assert.deepEqual(listOf(res), await directList(BASE_A));
    });

    it('case 2: list <base>/pkg → 200 empty (same as GitLab; not a module)', async () => {
      const res = await api(ID.A, `${BASE_A}/pkg`, '@v/list');
      // go-modules.md §1.7/§6 case 13: a non-module path may be 200-empty or 404, never 5xx.
      assertStatus(res, [200, 404], 'list pkg');
      if (res.status === 200) assert.equal(res.text.trim(), '');
      assert.deepEqual(await directList(`${BASE_A}/pkg`), []);
    });

    it('case 3: list <base>/mod → {v1.0.3}, from the tag mod/v1.0.3 (Go) rather than the root tag v1.0.3 (GitLab)', async () => {
      // GitLab uses the plain root tags for every module in the repository; Go requires the
      // directory prefix (mod/v1.0.3). The fixture therefore carries both tags on commit 4.
      const res = await api(ID.A, `${BASE_A}/mod`, '@v/list');
      assertStatus(res, 200, 'list mod');
      assert.deepEqual(listOf(res), ['v1.0.3']);
      assert.deepEqual(listOf(res), await directList(`${BASE_A}/mod`));
    });

    it('case 4: list <base>/v2 → {v2.0.0} (same as GitLab)', async () => {
      const res = await api(ID.A, `${BASE_A}/v2`, '@v/list');
      assertStatus(res, 200, 'list v2');
      assert.deepEqual(listOf(res), ['v2.0.0']);
      assert.deepEqual(listOf(res), await directList(`${BASE_A}/v2`));
    });

    it('case 5 (and module_finder 53–54): <base>/%2E%2E%2Fxyz and ../ escapes → 404', async () => {
      for (const path of [`${BASE_A}/%2E%2E%2Fxyz`, `${BASE_A}/../xyz`, `${BASE_A}${'/..'.repeat(10)}/xyz`]) {
        const res = await api(ID.A, path, '@v/list', { escape: false });
        assertStatus(res, [400, 404], path);
      }
    });
  });

  describe('fixture A: .info (cases 7–16)', () => {
    it('case 7: v1.0.1.info → Version v1.0.1, Time in UTC "Z" with whole seconds (GitLab: offset + milliseconds)', async () => {
      // decisions.md: `.info` Time is Go's format, byte-equal to Go's own cache.
      const res = await api(ID.A, BASE_A, '@v/v1.0.1.info');
      assertStatus(res, 200, 'v1.0.1.info');
      assert.match(String(res.headers['content-type']), /^application\/json/);
      const info = JSON.parse(res.text) as Record<string, unknown>;
      assert.deepEqual(Object.keys(info).slice(0, 2), ['Version', 'Time']);
      assert.equal(info.Version, 'v1.0.1');
      assert.equal(info.Time, '2020-05-21T10:00:00Z');
    });

    it('case 8: <base>/mod v1.0.3.info → 200 v1.0.3 (through the Go tag mod/v1.0.3)', async () => {
      const res = await api(ID.A, `${BASE_A}/mod`, '@v/v1.0.3.info');
      assertStatus(res, 200, 'mod v1.0.3.info');
      assert.equal((JSON.parse(res.text) as { Version: string }).Version, 'v1.0.3');
    });

    it('case 9: <base>/v2 v2.0.0.info → 200 v2.0.0 (same as GitLab)', async () => {
      const res = await api(ID.A, `${BASE_A}/v2`, '@v/v2.0.0.info');
      assertStatus(res, 200, 'v2 v2.0.0.info');
      assert.equal((JSON.parse(res.text) as { Version: string }).Version, 'v2.0.0');
    });

    it('cases 10–11: <base>/pkg v1.0.3.info and <base>/mod v1.0.1.info → 404 (same status; Go: no such prefixed tag)', async () => {
      assertStatus(await api(ID.A, `${BASE_A}/pkg`, '@v/v1.0.3.info'), 404, 'pkg v1.0.3.info');
      assertStatus(await api(ID.A, `${BASE_A}/mod`, '@v/v1.0.1.info'), 404, 'mod v1.0.1.info');
    });

    it('case 12: v1.0.4-0.<ts5>-<sha5>.info → 200, same as direct mode (base v1.0.3 is an ancestor tag)', async () => {
      const version = `v1.0.4-0.20200524100000-${A.short('c5')}`;
      const res = await api(ID.A, BASE_A, `@v/${version}.info`);
      assertStatus(res, 200, version);
      assert.deepEqual(JSON.parse(res.text), { Version: version, Time: '2020-05-24T10:00:00Z' });
      await parity(ID.A, `${BASE_A}@${version}`);
    });

    it('case 13 (+D13): v2 v2.0.0-<ts6>-<sha6> with a +02:00 committer: UTC timestamp → 200, local timestamp → 404', async () => {
      // GitLab compares the committer's LOCAL wall-clock time (a bug, gitlab-api.md §4); Go uses UTC.
      const utc = `v2.0.0-20200525203000-${A.short('c6')}`;
      const local = `v2.0.0-20200525223000-${A.short('c6')}`;
      const ok = await api(ID.A, `${BASE_A}/v2`, `@v/${utc}.info`);
      assertStatus(ok, 200, utc);
      assert.deepEqual(JSON.parse(ok.text), { Version: utc, Time: '2020-05-25T20:30:00Z' });
      assertStatus(await api(ID.A, `${BASE_A}/v2`, `@v/${local}.info`), 404, local);
      await parity(ID.A, `${BASE_A}/v2@${utc}`);
      await parity(ID.A, `${BASE_A}/v2@${local}`);
    });

    it('cases 14–16: bad timestamp, unknown commit, 11-hex revision → 404 (same as GitLab)', async () => {
      const sha5 = A.short('c5');
      for (const version of [
        `v1.0.4-0.00000000000000-${sha5}`,
        'v1.0.4-0.20200524100000-000000000000',
        `v1.0.4-0.20200524100000-${sha5.slice(0, 11)}`,
      ]) {
        assertStatus(await api(ID.A, BASE_A, `@v/${version}.info`), 404, version);
      }
    });
  });

  describe('fixture A: .mod (cases 17–21)', () => {
    it('cases 17–19: .mod bodies are the raw go.mod bytes', async () => {
      for (const [path, version] of [
        [BASE_A, 'v1.0.1'],
        [`${BASE_A}/mod`, 'v1.0.3'],
        [`${BASE_A}/v2`, 'v2.0.0'],
      ] as const) {
        const res = await api(ID.A, path, `@v/${version}.mod`);
        assertStatus(res, 200, `${path}@${version}.mod`);
        assert.equal(res.text, `module ${path}\n`);
      }
    });

    it('cases 20–21: <base>/pkg v1.0.3.mod and <base>/mod v1.0.1.mod → 404 (same as GitLab)', async () => {
      assertStatus(await api(ID.A, `${BASE_A}/pkg`, '@v/v1.0.3.mod'), 404, 'pkg');
      assertStatus(await api(ID.A, `${BASE_A}/mod`, '@v/v1.0.1.mod'), 404, 'mod');
    });

    it('module_version 74: v1.0.0 (no go.mod) has a .mod under Go: "module <base>\\n" (GitLab: nil / not a version)', async () => {
      const res = await api(ID.A, BASE_A, '@v/v1.0.0.mod');
      assertStatus(res, 200, 'v1.0.0.mod');
      assert.equal(res.text, `module ${BASE_A}\n`);
    });
  });

  describe('fixture A: .zip (cases 22–26 and module_version 75–76)', () => {
    const cases: Array<[string, string, string[]]> = [
      [BASE_A, 'v1.0.1', ['README.md', 'a.go', 'go.mod']],
      [BASE_A, 'v1.0.2', ['README.md', 'a.go', 'go.mod', 'pkg/b.go']],
      [BASE_A, 'v1.0.3', ['README.md', 'a.go', 'go.mod', 'pkg/b.go']],
      [`${BASE_A}/mod`, 'v1.0.3', ['a.go', 'go.mod']],
      [`${BASE_A}/v2`, 'v2.0.0', ['a.go', 'go.mod', 'x.go']],
    ];
    for (const [path, version, files] of cases) {
      it(`${path.replace(BASE_A, '<base>')}@${version}.zip → {${files.join(', ')}} and the Sum of direct mode`, async () => {
        const { proxy } = await parity(ID.A, `${path}@${version}`);
        assert.deepEqual(zipFileNames(proxy), files);
        const res = await api(ID.A, path, `@v/${version}.zip`);
        assertStatus(res, 200, 'zip');
        assert.match(String(res.headers['content-type']), /^application\/zip/);
      });
    }
  });

  describe('fixture B: invalid module directive (cases 27–30, public project)', () => {
    it('case 27: list <base> → {v1.0.0} under Go (GitLab: empty, it requires "module <base>" as the first line)', async () => {
      // Go does not check the module line of each tag for `list` (go-modules.md §3.3, verified
      // with the `mis` repository); v2.0.0 has no fitting major, and v1.0.0's go.mod exists, so no
      // +incompatible either.
      const res = await api(ID.B, BASE_B, '@v/list', { headers: {} });
      assertStatus(res, 200, 'list');
      assert.deepEqual(listOf(res), await directList(BASE_B));
      assert.deepEqual(listOf(res), ['v1.0.0']);
    });

    it('case 28: list <base>/v2 → {v2.0.0} under Go (GitLab: empty); `go list -m -versions` then fails in both modes', async () => {
      // Go's Versions() lists the tag without reading its go.mod (go-modules.md §3.3); the client
      // then fails while loading retractions from v2/go.mod, whose module line lacks /v2.
      const res = await api(ID.B, `${BASE_B}/v2`, '@v/list', { headers: {} });
      assertStatus(res, 200, 'list v2');
      assert.deepEqual(listOf(res), ['v2.0.0']);
      const [direct, proxy] = await Promise.all([
        go.listVersions(`${BASE_B}/v2`, DIRECT),
        go.listVersions(`${BASE_B}/v2`, projectMode(ID.B)),
      ]);
      assert.equal(direct.ok, false, 'fixture check: direct mode should fail loading retractions');
      assert.match(direct.error ?? '', /non-\.\.\.\/v2 module path/);
      assert.equal(proxy.ok, false, `proxy listed ${proxy.versions.join(' ')}`);
    });

    it('case 29: <base> v1.0.0.info → 200 under Go: a foreign module line is served (GitLab: 404)', async () => {
      // findDir only checks the major-version suffix of the module line (go-modules.md §3.7).
      const res = await api(ID.B, BASE_B, '@v/v1.0.0.info', { headers: {} });
      assertStatus(res, 200, 'v1.0.0.info');
      await parity(ID.B, `${BASE_B}@v1.0.0`);
    });

    it('case 30: <base>/v2 v2.0.0.info → 404 (same as GitLab: v2/go.mod lacks the /v2 suffix)', async () => {
      assertStatus(await api(ID.B, `${BASE_B}/v2`, '@v/v2.0.0.info', { headers: {} }), 404, 'v2.0.0.info');
      await parity(ID.B, `${BASE_B}/v2@v2.0.0`);
    });
  });

  describe('fixture C: case-sensitive project (cases 31–34, public project)', () => {
    it('case 31: list with the !-encoded base → {v1.0.1-prerelease, v1.0.1-Prerelease}', async () => {
      const res = await api(ID.C, BASE_C, '@v/list', { headers: {} });
      assertStatus(res, 200, 'list');
      assert.deepEqual(new Set(listOf(res)), new Set(['v1.0.1-prerelease', 'v1.0.1-Prerelease']));
      assert.deepEqual([...listOf(res)].sort(), [...(await directList(BASE_C))].sort());
    });

    it('case 32: list with the lower-cased base → 404', async () => {
      assertStatus(await api(ID.C, BASE_C.toLowerCase(), '@v/list', { headers: {} }), 404, 'lower-case');
    });

    it('cases 33–34: v1.0.1-!prerelease.info → v1.0.1-Prerelease, v1.0.1-prerelease.info → v1.0.1-prerelease; Time in UTC', async () => {
      const upper = await api(ID.C, BASE_C, '@v/v1.0.1-!prerelease.info', { headers: {} });
      assertStatus(upper, 200, 'Prerelease');
      assert.deepEqual(JSON.parse(upper.text), { Version: 'v1.0.1-Prerelease', Time: '2020-07-02T15:00:00Z' });
      const lower = await api(ID.C, BASE_C, '@v/v1.0.1-prerelease.info', { headers: {} });
      assertStatus(lower, 200, 'prerelease');
      assert.deepEqual(JSON.parse(lower.text), { Version: 'v1.0.1-prerelease', Time: '2020-07-02T05:00:00Z' });
      await parity(ID.C, `${BASE_C}@v1.0.1-Prerelease`);
      await parity(ID.C, `${BASE_C}@v1.0.1-prerelease`);
    });
  });

  describe('authentication (cases 35–46, D7–D10), with the product rule "invalid credentials → 404"', () => {
    const list = (headers: Record<string, string>, id: number | string = ID.A, module = BASE_A) => api(id, module, '@v/list', { headers });

    it('case 38: Basic auth with a PAT as password → 200 (username ignored)', async () => {
      assertStatus(await list({ Authorization: basic('developer', PAT) }), 200, 'basic');
      assertStatus(await list({ Authorization: basic('anything-at-all', PAT) }), 200, 'other username');
    });

    it('cases 35/37 adapted: PRIVATE-TOKEN header and Authorization: Bearer with a PAT → 200', async () => {
      // GitLab also takes OAuth tokens and ?private_token=; the product's token forms are these.
      assertStatus(await list({ 'PRIVATE-TOKEN': PAT }), 200, 'PRIVATE-TOKEN');
      assertStatus(await list({ Authorization: `Bearer ${PAT}` }), 200, 'Bearer');
    });

    it('case 40: no credentials on a private project → 401 with WWW-Authenticate: Basic realm="GitLab"', async () => {
      const res = await list({});
      assertStatus(res, 401, 'anonymous');
      assert.match(String(res.headers['www-authenticate'] ?? ''), /^Basic realm="GitLab"/);
    });

    it('case 41: a public project needs no credentials → 200', async () => {
      assertStatus(await list({}, ID.C, BASE_C), 200, 'public');
    });

    it('a valid PAT of a user who is not a member still reads a PUBLIC project → 200 (one .netrc line per host must not break public modules)', async () => {
      assertStatus(await list({ Authorization: basic('developer', PAT) }, ID.C, BASE_C), 200, 'public with a non-member PAT');
    });

    it('cases 42–46: a project that does not exist → 404 with a valid PAT, 401 without credentials', async () => {
      // GitLab answers 401 to anonymous requests for unknown projects too, so a private project's
      // existence does not leak.
      for (const id of ['not%2Fa%2Fproject', '999999']) {
        assertStatus(await list(DEV, id), 404, `${id} with PAT`);
        assertStatus(await list({}, id), 401, `${id} anonymous`);
      }
    });

    it('D7/D8: unknown credentials → 404 on private AND public projects (GitLab: anonymous → 401/200; PRIVATE-TOKEN bogus → 401)', async () => {
      // decisions.md: presented-but-invalid credentials get 404, identical to an unknown project.
      assertStatus(await list({ Authorization: basic('x', UNKNOWN_PAT) }), 404, 'basic unknown, private');
      assertStatus(await list({ Authorization: basic('x', UNKNOWN_PAT) }, ID.C, BASE_C), 404, 'basic unknown, public');
      assertStatus(await list({ 'PRIVATE-TOKEN': 'bogus' }), 404, 'PRIVATE-TOKEN bogus');
      assertStatus(await list({ 'PRIVATE-TOKEN': 'bogus' }, ID.C, BASE_C), 404, 'PRIVATE-TOKEN bogus, public');
    });

    it('D9: a PAT with only read_repository scope → 404 (GitLab: 403 insufficient_scope)', async () => {
      assertStatus(await list({ Authorization: basic('x', READ_REPO_PAT) }), 404, 'read_repository');
    });

    it('D10 / case 42: a valid PAT of a user who may not read the project → 404 (GitLab: 404 too)', async () => {
      assertStatus(await list({ Authorization: basic('x', OUTSIDER_PAT) }), 404, 'outsider');
    });

    it('expired and revoked PATs → 404 (GitLab: 401 with an OAuth error body)', async () => {
      assertStatus(await list({ Authorization: basic('x', EXPIRED_PAT) }), 404, 'expired');
      assertStatus(await list({ Authorization: basic('x', REVOKED_PAT) }), 404, 'revoked');
    });

    it('module_finder 52: a module path of ANOTHER project under this :id → 404', async () => {
      assertStatus(await api(ID.A, BASE_D, '@v/list'), 404, 'other project module');
    });

    it('D16: :id as a URL-encoded full path works like the numeric id', async () => {
      const res = await api('testorg%2Fmy-go-lib', BASE_A, '@v/list');
      assertStatus(res, 200, 'encoded path');
      assert.equal(res.text, (await api(ID.A, BASE_A, '@v/list')).text);
      const info = await api('testorg%2Fmy-go-lib', BASE_A, '@v/v1.0.1.info');
      assertStatus(info, 200, 'encoded path .info');
    });
  });

  describe('spec/finders/packages/go/version_finder_spec.rb, fixture D (cases 55–69)', () => {
    it('cases 55–60: list per module directory follows Go tag prefixes (GitLab filters root tags by go.mod)', async () => {
      // GitLab: root {v1.0.1..v1.0.4}, pkg {}, mod {v1.0.3, v1.0.4}, v2 {v2.0.0}, bad-mod {}.
      // Go: root lists every canonical root tag including v1.0.0 (no go.mod → synthesized);
      // mod and bad-mod have no `mod/…`/`bad-mod/…` tags, so nothing.
      const expected: Array<[string, string[]]> = [
        [BASE_D, ['v1.0.0', 'v1.0.1', 'v1.0.2', 'v1.0.3', 'v1.0.4']],
        [`${BASE_D}/pkg`, []],
        [`${BASE_D}/mod`, []],
        [`${BASE_D}/v2`, ['v2.0.0']],
        [`${BASE_D}/bad-mod`, []],
      ];
      for (const [module, versions] of expected) {
        assert.deepEqual(await directList(module), versions, `fixture check: direct mode list ${module}`);
        const res = await api(ID.D, module, '@v/list');
        if (versions.length === 0) {
          assertStatus(res, [200, 404], module);
          if (res.status === 200) assert.equal(res.text.trim(), '', module);
        } else {
          assertStatus(res, 200, module);
          assert.deepEqual(listOf(res), versions, module);
        }
      }
    });

    it('cases 61, 64: branch master and the head commit hash → the pseudo-version direct mode computes (GitLab: a ref/commit object)', async () => {
      await parity(ID.D, `${BASE_D}@master`);
      await parity(ID.D, `${BASE_D}@${D.short('head')}`);
      const res = await api(ID.D, BASE_D, '@v/master.info');
      assertStatus(res, 200, 'master.info');
    });

    it('cases 62–63: v1.0.0 (README only) and v1.0.1 are versions of the root module under Go', async () => {
      await parity(ID.D, `${BASE_D}@v1.0.0`);
      await parity(ID.D, `${BASE_D}@v1.0.1`);
    });

    it('case 65: v0.0.0-<ts head>-<sha head> → same as direct mode', async () => {
      await parity(ID.D, `${BASE_D}@v0.0.0-20200808000000-${D.short('head')}`);
    });

    it('cases 66–69: not-a-semver, unknown commit, 11-hex revision, zero timestamp → 404', async () => {
      const head = D.short('head');
      for (const version of [
        'not-a-semver',
        'v0.0.0-20200808000000-000000000000',
        `v0.0.0-20200808000000-${head.slice(0, 11)}`,
        `v0.0.0-00000000000000-${head}`,
      ]) {
        assertStatus(await api(ID.D, BASE_D, `@v/${version}.info`), 404, version);
        await parity(ID.D, `${BASE_D}@${version}`);
      }
    });
  });

  describe('derived cases D1–D16 (gitlab-api.md §5, not in GitLab specs)', () => {
    it("D1: @latest exists (GitLab: no route) and equals direct mode's answer for HEAD", async () => {
      // decisions.md: "plus <module>/@latest", because untagged modules fail otherwise.
      for (const module of [BASE_A, `${BASE_A}/v2`]) {
        const res = await api(ID.A, module, '@latest');
        assertStatus(res, 200, `${module}/@latest`);
        const latest = JSON.parse(res.text) as { Version: string; Time: string };
        const head = await go.modDownload(`${module}@HEAD`, DIRECT);
        assert.ok(head.ok, head.Error);
        assert.equal(latest.Version, head.Version, module);
        assert.equal(latest.Time, head.info?.Time, module);
      }
    });

    it('D2: a version without "v" or with raw upper case → 404', async () => {
      assertStatus(await api(ID.A, BASE_A, '@v/1.0.1.info'), [400, 404], '1.0.1.info');
      assertStatus(await api(ID.A, BASE_A, '@v/v1.0.1-Beta.info'), [400, 404], 'v1.0.1-Beta.info');
    });

    it('D3: a module path with a wrong host → 404', async () => {
      assertStatus(await api(ID.A, 'gitlab.example.com/testorg/my-go-lib', '@v/list'), 404, 'wrong host');
    });

    it('D4/D5: a non-existent subdirectory: 200 with an exactly empty body, or 404', async () => {
      const res = await api(ID.A, `${BASE_A}/does/not/exist`, '@v/list');
      assertStatus(res, [200, 404], 'missing dir');
      if (res.status === 200) assert.equal(res.text, '');
    });

    it('D6: a branch named v9.9.9 → .info 404 "is not a tag" (GitLab serves it; decisions.md follows Go)', async () => {
      const res = await api(ID.A, BASE_A, '@v/v9.9.9.info');
      assertStatus(res, 404, 'v9.9.9.info');
      assert.match(res.text, /is not a tag/);
      assert.ok(!listOf(await api(ID.A, BASE_A, '@v/list')).includes('v9.9.9'));
      await parity(ID.A, `${BASE_A}@v9.9.9`);
    });

    it('D12: a tag shaped like a pseudo-version is not listed and is validated as a pseudo-version (GitLab lists and serves it)', async () => {
      const tag = `v1.5.0-0.20200524100000-${A.short('c5')}`;
      assert.ok(!listOf(await api(ID.A, BASE_A, '@v/list')).includes(tag));
      assertStatus(await api(ID.A, BASE_A, `@v/${tag}.info`), 404, tag);
      await parity(ID.A, `${BASE_A}@${tag}`);
    });

    it('D14: v1.0.0-rc.1.0.<ts>-<sha> is a pseudo-version under Go (preceding tag v1.0.0-rc.1 missing) → 404', async () => {
      const version = `v1.0.0-rc.1.0.20200524100000-${A.short('c5')}`;
      assertStatus(await api(ID.A, BASE_A, `@v/${version}.info`), 404, version);
      await parity(ID.A, `${BASE_A}@${version}`);
    });

    it("D15: zip applies Go's rules: vendor/x/ and the symlink dropped, .gitignore kept, sub/ (nested module) dropped", async () => {
      // GitLab keeps vendor/** and stores symlinks as files; Go drops both (checkFiles).
      const { proxy } = await parity(ID.E, `${BASE_E}@v1.0.0`);
      assert.deepEqual(zipFileNames(proxy), ['.gitignore', 'a.go', 'go.mod', 'vendor/modules.txt']);
    });

    it('HEAD requests answer like GET without a body (Grape adds HEAD to every GET route)', async () => {
      const res = await api(ID.A, BASE_A, '@v/list', { method: 'HEAD' });
      assertStatus(res, 200, 'HEAD list');
      assert.equal(res.body.length, 0);
    });
  });

  it('the server never logs a token or a repository path', () => {
    server.assertLogsClean([UNKNOWN_PAT, READ_REPO_PAT, OUTSIDER_PAT, EXPIRED_PAT, REVOKED_PAT, world.reposDir]);
  });
});
