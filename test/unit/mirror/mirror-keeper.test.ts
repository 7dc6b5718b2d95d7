import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createMirrorKeeper } from '../../../src/mirror/mirror-keeper.js';
import { type GitHttpServer, startGitHttpServer } from '../../helpers/git-http-backend.js';
import { BASE_TIME, commitAll, createSandbox, type SampleRepo, type Sandbox, writeWorkFile } from '../../helpers/git-sample-repos.js';

const PASSWORD = 'keeper-secret-password';

interface Logged {
  level: string;
  fields: Record<string, unknown>;
  msg: string;
}

function recordingLogger(lines: Logged[]) {
  const at =
    (level: string) =>
    (fields: unknown, msg?: string): void => {
      lines.push({ level, fields: fields as Record<string, unknown>, msg: msg ?? '' });
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('MirrorKeeper: single-flight, bounded waits, failures logged without secrets', () => {
  let box: Sandbox;
  let work: SampleRepo;
  let server: GitHttpServer;
  let url: string;

  before(async () => {
    box = createSandbox();
    work = box.init('work');
    writeWorkFile(work, 'go.mod', 'module example.com/k\n');
    commitAll(work, 'first', BASE_TIME);
    work.raw(['tag', 'v1.0.0']);
    box.init('srv/k.git', { bare: true });
    work.raw(['push', '-q', '--mirror', join(box.root, 'srv/k.git')]);
    server = await startGitHttpServer({ root: join(box.root, 'srv'), auth: { username: 'u', password: PASSWORD } });
    url = `${server.url}/k.git`;
  });
  after(async () => {
    await server.close();
    box.cleanup();
  });

  it('ten concurrent fresh() calls on a missing mirror make one fetch, and all wait for the clone', async () => {
    const lines: Logged[] = [];
    const keeper = createMirrorKeeper({ logger: recordingLogger(lines), minFreeBytes: 0 });
    const project = { id: 1, gitdir: join(box.root, 'm1.git'), upstream: { url, username: 'u', password: PASSWORD, refreshSeconds: 3600 } };
    const discoveries = server.counts.discover;
    await Promise.all(Array.from({ length: 10 }, () => keeper.fresh(project)));
    assert.equal(server.counts.discover - discoveries, 1);
    assert.equal(box.runner(project.gitdir).text(['rev-parse', 'v1.0.0']), work.text(['rev-parse', 'v1.0.0']));
    // Fresh within refreshSeconds: no fetch at all.
    await keeper.fresh(project);
    assert.equal(server.counts.discover - discoveries, 1);
    assert.ok(lines.some((l) => l.level === 'info' && l.msg === 'mirror fetched' && l.fields.project === 1));
  });

  it('refreshSeconds elapsed: the next fresh() fetches again', async () => {
    let clock = 1_000_000;
    const keeper = createMirrorKeeper({ logger: recordingLogger([]), minFreeBytes: 0, now: () => clock });
    const project = { id: 2, gitdir: join(box.root, 'm2.git'), upstream: { url, username: 'u', password: PASSWORD, refreshSeconds: 10 } };
    const discoveries = server.counts.discover;
    await keeper.fresh(project);
    clock += 5_000;
    await keeper.fresh(project);
    assert.equal(server.counts.discover - discoveries, 1);
    clock += 6_000;
    await keeper.fresh(project);
    assert.equal(server.counts.discover - discoveries, 2);
  });

  it('a refused fetch is one warning naming the project and the reason, never the password or the path; fresh() still resolves', async () => {
    const lines: Logged[] = [];
    const keeper = createMirrorKeeper({ logger: recordingLogger(lines), minFreeBytes: 0 });
    const project = {
      id: 3,
      gitdir: join(box.root, 'm3.git'),
      upstream: { url, username: 'u', password: 'not-the-password', refreshSeconds: 3600 },
    };
    await keeper.fresh(project);
    const warnings = lines.filter((l) => l.level === 'warn');
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.fields.reason, 'credentials');
    assert.equal(warnings[0]?.fields.project, 3);
    const text = JSON.stringify(lines);
    for (const secret of ['not-the-password', PASSWORD, 'k.git', box.root]) assert.ok(!text.includes(secret), `log holds ${secret}`);
  });

  it('the scheduler fetches a stale mirror with no request asking, and stops when told', async () => {
    const keeper = createMirrorKeeper({ logger: recordingLogger([]), minFreeBytes: 0 });
    const project = { id: 4, gitdir: join(box.root, 'm4.git'), upstream: { url, username: 'u', password: PASSWORD, refreshSeconds: 0.05 } };
    await keeper.fresh(project);
    commitAll(work, 'second', BASE_TIME + 10);
    work.raw(['tag', 'v1.1.0']);
    work.raw(['push', '-q', '--mirror', join(box.root, 'srv/k.git')]);
    const stop = keeper.schedule(() => [project], 50);
    try {
      const deadline = Date.now() + 10_000;
      const mirror = box.runner(project.gitdir);
      const has = (): boolean => mirror.text(['for-each-ref', 'refs/tags/v1.1.0']) !== '';
      while (!has() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(has(), 'the scheduler did not fetch v1.1.0');
    } finally {
      stop();
      await keeper.idle();
    }
    const discoveries = server.counts.discover;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(server.counts.discover, discoveries, 'the scheduler went on after stop()');
  });

  it('a request waits at most waitMs for a fetch to an upstream that does not answer, then goes on', async () => {
    const keeper = createMirrorKeeper({ logger: recordingLogger([]), minFreeBytes: 0, waitMs: 200, idleTimeoutMs: 3_000 });
    const project = { id: 1, gitdir: join(box.root, 'm1.git'), upstream: { url, username: 'u', password: PASSWORD, refreshSeconds: 3600 } };
    // A server that accepts the connection and never answers.
    const { createServer } = await import('node:net');
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const started = Date.now();
      await keeper.refresh({ ...project, upstream: { ...project.upstream, url: `http://127.0.0.1:${port}/k.git` } });
      const waited = Date.now() - started;
      assert.ok(waited < 2_000, `waited ${waited} ms`);
      await keeper.idle();
    } finally {
      silent.close();
    }
  });
});
