import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fetchMirror, MirrorFetchError } from '../../../src/mirror/mirror-fetch.js';
import type { Upstream } from '../../../src/mirror/upstream-options.js';
import { type GitHttpServer, startGitHttpServer } from '../../helpers/git-http-backend.js';
import { BASE_TIME, commitAll, createSandbox, type SampleRepo, type Sandbox, writeWorkFile } from '../../helpers/git-sample-repos.js';

const PASSWORD = 's3cret-upstream-token';
const OPTIONS = { idleTimeoutMs: 5_000, minFreeBytes: 0 };

/** Every file below `dir` with the SHA-256 of its content: "byte-for-byte unchanged" is equality of this. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else out.set(relative(dir, full), createHash('sha256').update(readFileSync(full)).digest('hex'));
    }
  };
  walk(dir);
  return out;
}

async function rejection(p: Promise<unknown>): Promise<MirrorFetchError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof MirrorFetchError, `expected a MirrorFetchError, got ${String(err)}`);
    return err;
  }
  assert.fail('the fetch succeeded');
}

describe('fetchMirror against a real git http-backend with basic auth', () => {
  let box: Sandbox;
  let work: SampleRepo;
  let bare: SampleRepo;
  let server: GitHttpServer;
  let upstream: Upstream;
  let mirror: string;
  let time = BASE_TIME;

  const push = (): void => {
    work.raw(['push', '-q', '--mirror', bare.dir]);
  };
  const upstreamRefs = (): string => bare.text(['for-each-ref', '--format=%(objectname) %(refname)', 'refs/heads', 'refs/tags']);
  const mirrorGit = () => box.runner(mirror);

  before(async () => {
    box = createSandbox();
    work = box.init('work');
    writeWorkFile(work, 'go.mod', 'module example.com/m\n\ngo 1.19\n');
    writeWorkFile(work, 'm.go', 'package m\n');
    commitAll(work, 'first', time++);
    work.raw(['tag', 'v1.0.0']);
    work.raw(['checkout', '-q', '-b', 'dev']);
    writeWorkFile(work, 'dev.go', 'package m\n\n// dev\n');
    commitAll(work, 'dev work', time++);
    work.raw(['checkout', '-q', 'main']);
    bare = box.init('srv/repo.git', { bare: true });
    push();
    server = await startGitHttpServer({ root: join(box.root, 'srv'), auth: { username: 'proxy', password: PASSWORD } });
    upstream = { url: `${server.url}/repo.git`, username: 'proxy', password: () => PASSWORD };
    mirror = join(box.root, 'mirrors', 'example.git');
  });
  after(async () => {
    await server.close();
    box.cleanup();
  });

  it('first fetch creates the bare mirror with exactly the upstream heads and tags, and git fsck passes', async () => {
    const result = await fetchMirror(mirror, upstream, OPTIONS);
    assert.equal(result.changed, true);
    assert.equal(result.refs, 3);
    assert.ok(result.packBytes > 0);
    assert.equal(mirrorGit().text(['for-each-ref', '--format=%(objectname) %(refname)']), upstreamRefs());
    assert.equal(mirrorGit().text(['symbolic-ref', 'HEAD']), 'refs/heads/main');
    mirrorGit().raw(['fsck', '--strict', '--no-dangling']);
    // Only heads and tags: no remote-tracking refs, no FETCH_HEAD, no staging left behind.
    assert.deepEqual([...snapshot(mirror).keys()].filter((f) => !f.startsWith('objects/pack/')).sort(), ['HEAD', 'packed-refs']);
  });

  it('a second fetch with nothing new changes nothing and fetches no pack', async () => {
    const beforeFetch = snapshot(mirror);
    const result = await fetchMirror(mirror, upstream, OPTIONS);
    assert.equal(result.changed, false);
    assert.equal(result.packBytes, 0);
    assert.deepEqual(snapshot(mirror), beforeFetch);
  });

  it('a new annotated tag and commit upstream are fetched, peeled, and only the new objects come', async () => {
    writeWorkFile(work, 'm.go', 'package m\n\n// v1.1.0\n');
    const commit = commitAll(work, 'second', time++);
    work.raw(['tag', '-a', '-m', 'release', 'v1.1.0'], { time: time++ });
    push();
    const result = await fetchMirror(mirror, upstream, OPTIONS);
    assert.equal(result.changed, true);
    assert.equal(result.refs, 4);
    assert.equal(mirrorGit().text(['for-each-ref', '--format=%(objectname) %(refname)']), upstreamRefs());
    assert.equal(mirrorGit().text(['rev-parse', 'v1.1.0^{commit}']), commit);
    assert.match(readFileSync(join(mirror, 'packed-refs'), 'utf8'), new RegExp(`refs/tags/v1\\.1\\.0\\n\\^${commit}\\n`));
    mirrorGit().raw(['fsck', '--strict', '--no-dangling']);
  });

  it('a deleted upstream branch is removed from the mirror', async () => {
    work.raw(['branch', '-q', '-D', 'dev']);
    push();
    const result = await fetchMirror(mirror, upstream, OPTIONS);
    assert.equal(result.changed, true);
    assert.equal(mirrorGit().text(['for-each-ref', '--format=%(refname)', 'refs/heads']), 'refs/heads/main');
  });

  it('a wrong password is a credentials failure whose message holds neither the secret nor the path', async () => {
    const beforeFetch = snapshot(mirror);
    const err = await rejection(fetchMirror(mirror, { ...upstream, password: 'wrong-password-xyz' }, OPTIONS));
    assert.equal(err.reason, 'credentials');
    assert.match(err.message, /refused the credentials \(HTTP 401\)/);
    for (const secret of ['wrong-password-xyz', PASSWORD, 'repo.git', box.root]) assert.ok(!err.message.includes(secret));
    assert.deepEqual(snapshot(mirror), beforeFetch);
  });

  it('an unknown repository is not-found', async () => {
    const err = await rejection(
      fetchMirror(join(box.root, 'mirrors', 'other.git'), { ...upstream, url: `${server.url}/nope.git` }, OPTIONS),
    );
    assert.equal(err.reason, 'not-found');
  });

  it('an upstream that is down is unreachable, and the mirror is untouched', async () => {
    const beforeFetch = snapshot(mirror);
    await server.stop();
    try {
      const err = await rejection(fetchMirror(mirror, upstream, OPTIONS));
      assert.equal(err.reason, 'unreachable');
      assert.deepEqual(snapshot(mirror), beforeFetch);
    } finally {
      await server.start();
    }
  });

  it('a fetch cut half-way through the pack leaves every file of the mirror byte-for-byte as it was; the next fetch completes', async () => {
    // Incompressible content, so the pack is large enough to be cut in its middle.
    writeWorkFile(work, 'blob.bin', randomBytes(512 * 1024));
    commitAll(work, 'big', time++);
    work.raw(['tag', 'v1.2.0']);
    push();
    const beforeFetch = snapshot(mirror);
    for (const cut of [100, 64 * 1024, 300 * 1024]) {
      server.cutUploadPackAfter(cut);
      const err = await rejection(fetchMirror(mirror, upstream, OPTIONS));
      assert.ok(['interrupted', 'unreachable', 'protocol'].includes(err.reason), `cut at ${cut}: ${err.reason} ${err.message}`);
      assert.deepEqual(snapshot(mirror), beforeFetch, `cut at ${cut} changed the mirror`);
    }
    server.cutUploadPackAfter(null);
    const result = await fetchMirror(mirror, upstream, OPTIONS);
    assert.equal(result.changed, true);
    assert.equal(mirrorGit().text(['for-each-ref', '--format=%(objectname) %(refname)']), upstreamRefs());
    mirrorGit().raw(['fsck', '--strict', '--no-dangling']);
  });

  it('refuses to fetch when the disk has less free space than minFreeBytes', async () => {
    const err = await rejection(fetchMirror(mirror, upstream, { ...OPTIONS, minFreeBytes: Number.MAX_SAFE_INTEGER }));
    assert.equal(err.reason, 'disk-full');
  });
});
