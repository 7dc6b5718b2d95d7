import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { createProjectServices, type ProjectServices, type ServedProject } from '../../../src/service/project-services.js';
import { makeBareRepository, makeTempDir, standardHistory } from '../../http/fixtures.js';

const run = promisify(execFile);
const PREFIX = 'gitlab.example.com';

let temp: { dir: string; remove(): Promise<void> };
const projects: ServedProject[] = [];

before(async () => {
  temp = await makeTempDir();
  for (const name of ['a', 'b', 'c']) {
    const gitdir = path.join(temp.dir, `${name}.git`);
    await makeBareRepository(gitdir, standardHistory(`${PREFIX}/group/${name}`));
    // Packed, as a served repository is: its packs stay open while the repository is.
    await run('git', ['-C', gitdir, 'repack', '-a', '-d', '-q']);
    projects.push({ id: projects.length + 1, fullPath: `group/${name}`, gitdir });
  }
});

after(() => temp.remove());

const moduleOf = (p: ServedProject): string => `${PREFIX}/${p.fullPath}`;

async function answers(services: ProjectServices, project: ServedProject): Promise<unknown> {
  const lease = await services.acquire(project);
  try {
    const { service } = lease;
    const module = moduleOf(project);
    return {
      list: await service.list(module),
      info: await service.info(module, 'v1.1.0'),
      latest: await service.latest(module),
      mod: (await service.goMod(module, 'v1.0.0')).toString(),
      zip: await zipBytes(services, project, 'v1.0.0'),
    };
  } finally {
    lease.release();
  }
}

async function zipBytes(services: ProjectServices, project: ServedProject, version: string): Promise<number> {
  const lease = await services.acquire(project);
  try {
    let bytes = 0;
    await pipeline(
      (await lease.service.zip(moduleOf(project), version)).open(),
      counter((n) => (bytes += n)),
    );
    return bytes;
  } finally {
    lease.release();
  }
}

/** A sink that counts the bytes written to it. */
function counter(add: (n: number) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      add(chunk.length);
      callback();
    },
  });
}

/** Waits, a turn at a time and for at most two seconds, until `done()` holds. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (const start = Date.now(); !done(); await sleep(5)) {
    if (Date.now() - start > 2000) assert.fail(`timed out waiting for ${what}`);
  }
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

describe('ProjectServices: repositories in a bounded, idle-closing LRU', () => {
  test('an evicted repository is opened again on demand and gives the same answers', async () => {
    const services = createProjectServices({ modulePrefix: PREFIX, cache: { openRepositories: 1, idleSeconds: 0 } });
    try {
      const first = await answers(services, projects[0]!);
      assert.equal(services.stats().openServices, 1);
      await answers(services, projects[1]!);
      // Only one may stay open, and neither has a lease: the least recently used one is closed.
      assert.deepEqual(
        { ...services.stats(), memoryBytes: 0, zipBuilds: undefined },
        { openServices: 1, openRepositories: 1, leases: 0, memoryBytes: 0, zipBuilds: undefined },
      );
      assert.deepEqual(await answers(services, projects[0]!), first);
    } finally {
      await services.close();
    }
  });

  test('a repository with a lease is never closed, even over the bound', async () => {
    const services = createProjectServices({ modulePrefix: PREFIX, cache: { openRepositories: 1, idleSeconds: 0 } });
    try {
      const expected = await zipBytes(services, projects[0]!, 'v1.1.0');
      const held = await services.acquire(projects[0]!);
      const zip = await held.service.zip(moduleOf(projects[0]!), 'v1.1.0');
      // Two more projects come and go while the first one's zip has not been read yet.
      await answers(services, projects[1]!);
      await answers(services, projects[2]!);
      assert.equal(services.stats().leases, 1);
      let bytes = 0;
      await pipeline(
        zip.open(),
        counter((n) => (bytes += n)),
      );
      assert.equal(bytes, expected);
      assert.ok(services.stats().openServices >= 1);
      held.release();
      held.release(); // twice is harmless
      assert.deepEqual(services.stats().openServices, 1);
      assert.equal(services.stats().leases, 0);
    } finally {
      await services.close();
    }
  });

  test('idle repositories close after idleSeconds, releasing their file descriptors', async () => {
    const services = createProjectServices({ modulePrefix: PREFIX, cache: { idleSeconds: 0.05 } });
    const before = openFds();
    try {
      // Held while the three are checked, so no idle timer can run yet, however slow the machine.
      const leases = await Promise.all(projects.map((p) => services.acquire(p)));
      for (const project of projects) await answers(services, project);
      assert.equal(services.stats().openRepositories, 3);
      assert.ok(openFds() > before, 'reading packs opens files');
      for (const lease of leases) lease.release();
      await until(() => services.stats().openRepositories === 0, 'idle repositories to close');
      await until(() => openFds() <= before, 'their files to close');
      assert.equal(services.stats().memoryBytes, 0, 'a closed repository keeps nothing in the pool');
      // And they open again.
      assert.equal(((await answers(services, projects[2]!)) as { list: string[] }).list.length, 3);
    } finally {
      await services.close();
    }
  });

  test('idleSeconds 0 keeps a released repository open until it is evicted', async () => {
    const services = createProjectServices({ modulePrefix: PREFIX, cache: { idleSeconds: 0 } });
    try {
      await answers(services, projects[0]!);
      // An idle close would be a timer of 0 ms, set at the release: it runs before this one.
      await sleep(5);
      assert.equal(services.stats().openRepositories, 1);
      assert.equal(services.stats().openServices, 1);
    } finally {
      await services.close();
    }
  });

  test('warm builds every listed version and counts the ones Go would refuse, without throwing', async () => {
    const gitdir = path.join(temp.dir, 'warm.git');
    const module = `${PREFIX}/group/warm`;
    const [good] = standardHistory(module);
    await makeBareRepository(gitdir, [
      good!,
      // v2.0.0 is listed for …/v2, but its go.mod lacks the /v2: go refuses it (404).
      { date: '2024-05-10T10:00:00Z', files: { 'go.mod': `module ${module}\n`, 'x.go': 'package x\n' }, tag: 'v2.0.0' },
    ]);
    const services = createProjectServices({ modulePrefix: PREFIX, cache: { idleSeconds: 0 } });
    try {
      const seen: number[] = [];
      const progress = await services.warm({ id: 50, fullPath: 'group/warm', gitdir }, (p) => seen.push(p.done));
      assert.deepEqual({ ...progress, current: '' }, { total: 2, done: 2, built: 1, failed: 1, current: '' });
      assert.deepEqual(seen, [0, 1, 2]);
    } finally {
      await services.close();
    }
  });

  test('all projects share one memory budget', async () => {
    const services = createProjectServices({ modulePrefix: PREFIX, cache: { memoryBytes: 64 * 1024, idleSeconds: 0 } });
    try {
      for (const project of projects) await answers(services, project);
      const { memoryBytes } = services.stats();
      assert.ok(memoryBytes > 0 && memoryBytes <= 64 * 1024, `${memoryBytes} bytes held`);
    } finally {
      await services.close();
    }
  });

  test("open repositories' pack indexes count against the budget: past half of it, idle ones close", async () => {
    const packDir = path.join(projects[0]!.gitdir, 'objects', 'pack');
    const idx = readdirSync(packDir).find((n) => n.endsWith('.idx'))!;
    const indexBytes = statSync(path.join(packDir, idx)).size;
    // Room for one repository's indexes in half the budget, not for two.
    const services = createProjectServices({ modulePrefix: PREFIX, cache: { memoryBytes: Math.floor(indexBytes * 3), idleSeconds: 0 } });
    try {
      await answers(services, projects[0]!);
      assert.equal(services.stats().openRepositories, 1);
      await answers(services, projects[1]!);
      assert.equal(services.stats().openRepositories, 1);
      assert.ok(services.stats().memoryBytes <= indexBytes * 3);
    } finally {
      await services.close();
    }
  });

  test('a repack is counted: the next lease reserves the new pack indexes against the budget', async () => {
    const gitdir = path.join(temp.dir, 'repack.git');
    await makeBareRepository(gitdir, standardHistory(`${PREFIX}/group/repack`));
    const project = { id: 60, fullPath: 'group/repack', gitdir };
    const packDir = path.join(gitdir, 'objects', 'pack');
    const idxBytes = (): number =>
      readdirSync(packDir)
        .filter((n) => n.endsWith('.idx'))
        .reduce((sum, n) => sum + statSync(path.join(packDir, n)).size, 0);
    assert.equal(idxBytes(), 0, 'the fixture starts with loose objects only');
    // A pool of 0 bytes caches nothing, so what it counts is exactly the reserved indexes.
    const services = createProjectServices({ modulePrefix: PREFIX, cache: { memoryBytes: 0, idleSeconds: 0 } });
    try {
      const held = await services.acquire(project);
      assert.equal(services.stats().memoryBytes, 0);
      await run('git', ['-C', gitdir, 'repack', '-a', '-d', '-q']);
      await zipBytes(services, project, 'v1.0.0'); // reads through the new pack
      const again = await services.acquire(project);
      assert.ok(idxBytes() > 0);
      // At least the index files (the reader keeps a little more beside them).
      assert.ok(services.stats().memoryBytes >= idxBytes(), `${services.stats().memoryBytes} bytes for ${idxBytes()} of indexes`);
      again.release();
      held.release();
    } finally {
      await services.close();
    }
  });

  test('with cache.dir, pins survive a restart: a tag moved while the proxy was down changes nothing served', async () => {
    const gitdir = path.join(temp.dir, 'restart.git');
    await makeBareRepository(gitdir, standardHistory(`${PREFIX}/group/restart`));
    const project = { id: 99, fullPath: 'group/restart', gitdir };
    const cache = { dir: path.join(temp.dir, 'restart-cache'), idleSeconds: 0 };
    const before = createProjectServices({ modulePrefix: PREFIX, cache });
    const served = (await answers(before, project)) as { info: unknown; mod: string };
    await before.close();
    await run('git', ['-C', gitdir, 'tag', '-f', 'v1.1.0', 'v1.2.0-rc.1']);
    await run('git', ['-C', gitdir, 'tag', '-f', 'v1.0.0', 'v1.2.0-rc.1']);
    const after = createProjectServices({ modulePrefix: PREFIX, cache });
    try {
      const again = (await answers(after, project)) as { info: unknown; mod: string };
      assert.deepEqual(again.info, served.info);
      // Without the pins the moved tag would be served: services with no disk cache see it.
      const fresh = createProjectServices({ modulePrefix: PREFIX });
      try {
        assert.notDeepEqual(((await answers(fresh, project)) as { info: unknown }).info, served.info);
      } finally {
        await fresh.close();
      }
    } finally {
      await after.close();
    }
  });

  test('a damaged pin is refused with an internal error and an error log line, never served from the moved tag', async () => {
    const gitdir = path.join(temp.dir, 'damaged-pin.git');
    await makeBareRepository(gitdir, standardHistory(`${PREFIX}/group/damaged`));
    const project = { id: 98, fullPath: 'group/damaged', gitdir };
    const cache = { dir: path.join(temp.dir, 'damaged-pin-cache'), idleSeconds: 0 };
    const before = createProjectServices({ modulePrefix: PREFIX, cache });
    const served = (await answers(before, project)) as { info: { Time: string } };
    await before.close();
    const pinDir = path.join(cache.dir, 'pins');
    const lines: unknown[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (o: unknown) => lines.push(o) };
    for (const damage of ['truncate', 'flip'] as const) {
      for (const name of readdirSync(pinDir)) {
        const file = path.join(pinDir, name);
        const text = readFileSync(file, 'utf8');
        // Truncated mid-write, or one hex digit of the commit changed: both parse as "not pinned" before.
        writeFileSync(
          file,
          damage === 'truncate' ? '' : text.replace(/"commit":"(.)/, (_m, c: string) => `"commit":"${c === 'a' ? 'b' : 'a'}`),
        );
      }
      await run('git', ['-C', gitdir, 'tag', '-f', 'v1.1.0', 'v1.2.0-rc.1']);
      const after = createProjectServices({ modulePrefix: PREFIX, cache, logger });
      try {
        const lease = await after.acquire(project);
        try {
          await assert.rejects(lease.service.info(moduleOf(project), 'v1.1.0'), (err: Error & { kind?: string }) => {
            assert.equal(err.kind, 'internal');
            return true;
          });
        } finally {
          lease.release();
        }
      } finally {
        await after.close();
      }
      assert.ok(served.info.Time);
      assert.match(JSON.stringify(lines), /damaged-pin/);
      lines.length = 0;
    }
  });

  test('pins survive eviction: a moved tag does not change a version already served', async () => {
    const services = createProjectServices({ modulePrefix: PREFIX, cache: { openRepositories: 1, idleSeconds: 0 } });
    const project = projects[2]!;
    try {
      const served = (await answers(services, project)) as { info: { Version: string; Time: string } };
      await run('git', ['-C', project.gitdir, 'tag', '-f', 'v1.1.0', 'v1.2.0-rc.1']);
      await answers(services, projects[0]!); // evicts the project
      const again = (await answers(services, project)) as { info: { Version: string; Time: string } };
      assert.deepEqual(again.info, served.info);
    } finally {
      await services.close();
    }
  });
});
