import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Logger } from '../../../src/logger.js';
import { ZipCache } from '../../../src/zip/cache.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zip-cache-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const sink = (): Writable => new Writable({ write: (_c, _e, cb) => cb() });

test('a cache folder that cannot hold the build fails that download, logs one line without a path, and the process lives on', async () => {
  const root = join(dir, 'broken');
  await mkdir(join(root, 'zips'), { recursive: true });
  // A file where the key's folder should be: every write under it fails (ENOTDIR), and so does
  // the cleanup of the temporary file.
  await writeFile(join(root, 'zips', 'ab'), 'not a folder');
  const lines: unknown[] = [];
  const logger: Logger = { debug() {}, info() {}, warn: (o) => lines.push(o), error: (o) => lines.push(o) };
  const cache = new ZipCache({ dir: root, maxBytes: 1 << 20, logger });
  const key = `ab${'0'.repeat(62)}`;
  await assert.rejects(
    pipeline(
      cache.open(key, () => Readable.from([Buffer.from('PK')])),
      sink(),
    ),
  );
  for (let i = 0; i < 10; i++) await nextTurn();
  assert.equal(lines.length, 1, JSON.stringify(lines));
  assert.doesNotMatch(JSON.stringify(lines), new RegExp(dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  // The same cache still serves other keys.
  await pipeline(
    cache.open(`cd${'0'.repeat(62)}`, () => Readable.from([Buffer.from('PK\x05\x06')])),
    sink(),
  );
  assert.equal(await cache.lookup(`cd${'0'.repeat(62)}`), 4);
});

/** A build that yields `chunks` chunks of `size` bytes, one per turn, counting builds and aborts. */
function slowBuild(counter: { builds: number; aborted: number }, chunks: number, size = 1024): (signal: AbortSignal) => Readable {
  return (signal) => {
    counter.builds++;
    signal.addEventListener('abort', () => counter.aborted++, { once: true });
    let sent = 0;
    return new Readable({
      read() {
        if (signal.aborted) {
          this.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
          return;
        }
        setImmediate(() => this.push(sent++ < chunks ? Buffer.alloc(size, sent) : null));
      },
    });
  };
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const keyOf = (n: number): string => n.toString(16).padStart(64, '0');

test('concurrent requests for one zip share one build and get the same bytes', async () => {
  const cache = new ZipCache({ dir: join(dir, 'shared'), maxBytes: 1 << 30 });
  const counter = { builds: 0, aborted: 0 };
  const build = slowBuild(counter, 50);
  const [a, b, c] = await Promise.all([1, 2, 3].map(() => collect(cache.open(keyOf(1), build))));
  assert.equal(counter.builds, 1);
  assert.equal(a!.length, 50 * 1024);
  assert.ok(a!.equals(b!) && a!.equals(c!));
  // Finished: served from the file, with its size known, and never built again.
  assert.equal(await cache.lookup(keyOf(1)), 50 * 1024);
  assert.ok((await collect(cache.open(keyOf(1), build))).equals(a!));
  assert.equal(counter.builds, 1);
});

test('a build is aborted when every client has left, and nothing is cached from it', async () => {
  const cache = new ZipCache({ dir: join(dir, 'abort'), maxBytes: 1 << 30 });
  const counter = { builds: 0, aborted: 0 };
  const build = slowBuild(counter, 10_000);
  const first = cache.open(keyOf(2), build);
  const second = cache.open(keyOf(2), build);
  await once(first, 'data');
  first.destroy();
  await nextTurn();
  assert.equal(counter.aborted, 0, 'one client still reads');
  await once(second, 'data');
  second.destroy();
  await until(() => counter.aborted === 1);
  await until(async () => (await readdir(join(dir, 'abort', 'zips', '00'))).length === 0);
  assert.equal(await cache.lookup(keyOf(2)), null);
});

test('past maxBytes the least recently used zips are evicted, from the index and the disk', async () => {
  const root = join(dir, 'evict');
  const cache = new ZipCache({ dir: root, maxBytes: 10 * 1024 });
  const counter = { builds: 0, aborted: 0 };
  for (const n of [3, 4, 5]) await collect(cache.open(keyOf(n), slowBuild(counter, 4)));
  // 3 × 4 KiB > 10 KiB: the oldest (3) went; 4 and 5 stay.
  assert.equal(await cache.lookup(keyOf(3)), null);
  assert.equal(await cache.lookup(keyOf(4)), 4096);
  assert.equal(await cache.lookup(keyOf(5)), 4096);
  const files = (await readdir(join(root, 'zips', '00'))).sort();
  assert.deepEqual(files, [`${keyOf(4)}.zip`, `${keyOf(5)}.zip`]);
  // Using 4 makes 5 the least recently used.
  await collect(cache.open(keyOf(4), slowBuild(counter, 4)));
  await collect(cache.open(keyOf(6), slowBuild(counter, 4)));
  assert.equal(await cache.lookup(keyOf(5)), null);
  assert.equal(await cache.lookup(keyOf(4)), 4096);
});

async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  for (const start = Date.now(); !(await done()); await new Promise((r) => setTimeout(r, 5))) {
    if (Date.now() - start > 2000) assert.fail('timed out');
  }
}
