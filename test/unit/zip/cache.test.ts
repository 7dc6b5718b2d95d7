import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, mkdtemp, open, readdir, readFile, rm, truncate, utimes, writeFile } from 'node:fs/promises';
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

test('a cache folder that cannot hold the build serves the zip without caching it, logs one line without a path, and the process lives on', async () => {
  const root = join(dir, 'broken');
  await mkdir(join(root, 'zips'), { recursive: true });
  // A file where the key's folder should be: every write under it fails (ENOTDIR), and so does
  // the cleanup of the temporary file.
  await writeFile(join(root, 'zips', 'ab'), 'not a folder');
  const lines: unknown[] = [];
  const logger: Logger = { debug() {}, info() {}, warn: (o) => lines.push(o), error: (o) => lines.push(o) };
  // Tries to write again at once, so the other key below is cached; the errno is logged once.
  const cache = new ZipCache({ dir: root, maxBytes: 1 << 20, logger, retryWritesAfterMs: 0 });
  const key = `ab${'0'.repeat(62)}`;
  assert.equal((await collect(cache.open(key, () => Readable.from([Buffer.from('PK')])))).toString(), 'PK');
  // Again, and a second key in the same folder: served, and still one log line.
  assert.equal((await collect(cache.open(key, () => Readable.from([Buffer.from('PK')])))).toString(), 'PK');
  assert.equal((await collect(cache.open(`ab${'1'.repeat(62)}`, () => Readable.from([Buffer.from('PK2')])))).toString(), 'PK2');
  for (let i = 0; i < 10; i++) await nextTurn();
  assert.equal(lines.length, 1, JSON.stringify(lines));
  assert.match(JSON.stringify(lines), /"errno":"E[A-Z]+"/);
  assert.doesNotMatch(JSON.stringify(lines), new RegExp(dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  // The same cache still caches other keys.
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
  // 'close' comes once the reader let go of the build; the build must go on for the other one.
  await once(first, 'close');
  await once(second, 'data');
  await once(second, 'data');
  assert.equal(counter.aborted, 0, 'one client still reads');
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
  assert.equal(files.length, 2);
  assert.match(files[0]!, new RegExp(`^${keyOf(4)}-4096-[0-9a-f]{64}\\.zip$`));
  assert.match(files[1]!, new RegExp(`^${keyOf(5)}-4096-[0-9a-f]{64}\\.zip$`));
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

/** The one finished file of a key, by its name. */
async function cachedFile(root: string, key: string): Promise<string> {
  const names = (await readdir(join(root, 'zips', key.slice(0, 2)))).filter((n) => n.startsWith(`${key}-`) && n.endsWith('.zip'));
  assert.equal(names.length, 1, JSON.stringify(names));
  return join(root, 'zips', key.slice(0, 2), names[0]!);
}

const bytesOf = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7) & 0xff));
const fixedBuild =
  (counter: { builds: number }, body: Buffer): ((signal: AbortSignal) => Readable) =>
  () => {
    counter.builds++;
    return Readable.from([body.subarray(0, 300_000), body.subarray(300_000)]);
  };

test('a cached zip removed from outside is rebuilt, between lookups and between lookup and open', async () => {
  const root = join(dir, 'vanish');
  const cache = new ZipCache({ dir: root, maxBytes: 1 << 30 });
  const counter = { builds: 0 };
  const body = bytesOf(600_000);
  const key = keyOf(20);
  assert.ok((await collect(cache.open(key, fixedBuild(counter, body)))).equals(body));
  await rm(await cachedFile(root, key));
  // lookup sees it gone: the caller plans a build.
  assert.equal(await cache.lookup(key), null);
  assert.ok((await collect(cache.open(key, fixedBuild(counter, body)))).equals(body));
  assert.equal(counter.builds, 2);
  // Gone after the lookup promised its length: the same bytes, built again, not an error.
  assert.equal(await cache.lookup(key), body.length);
  await rm(await cachedFile(root, key));
  assert.ok((await collect(cache.open(key, fixedBuild(counter, body)))).equals(body));
  assert.equal(counter.builds, 3);
  assert.equal(await cache.lookup(key), body.length);
});

test('a truncated cached zip is never served: it is removed and rebuilt before any byte goes out', async () => {
  const root = join(dir, 'truncated');
  const lines: unknown[] = [];
  const logger: Logger = { debug() {}, info() {}, warn: (o) => lines.push(o), error: (o) => lines.push(o) };
  const counter = { builds: 0 };
  const body = bytesOf(600_000);
  const key = keyOf(21);
  const cache = new ZipCache({ dir: root, maxBytes: 1 << 30, logger });
  await collect(cache.open(key, fixedBuild(counter, body)));
  await truncate(await cachedFile(root, key), 1000);
  // After the lookup promised the length (the worst case): rebuilt, whole.
  assert.ok((await collect(cache.open(key, fixedBuild(counter, body)))).equals(body));
  assert.equal(counter.builds, 2);
  assert.match(JSON.stringify(lines), /"reason":"length"/);
  // A fresh process finds the truncated file by its name and drops it.
  await truncate(await cachedFile(root, key), 1000);
  const restarted = new ZipCache({ dir: root, maxBytes: 1 << 30 });
  assert.equal(await restarted.lookup(key), null);
});

test('a bit-flipped cached zip is cut short of its last chunk, removed, and the next request gets the right bytes', async () => {
  const root = join(dir, 'flipped');
  const lines: unknown[] = [];
  const logger: Logger = { debug() {}, info() {}, warn: (o) => lines.push(o), error: (o) => lines.push(o) };
  const counter = { builds: 0 };
  const body = bytesOf(600_000);
  const key = keyOf(22);
  await collect(new ZipCache({ dir: root, maxBytes: 1 << 30 }).open(key, fixedBuild(counter, body)));
  const file = await cachedFile(root, key);
  const handle = await open(file, 'r+');
  await handle.write(Buffer.from([body[10]! ^ 1]), 0, 1, 10);
  await handle.close();
  const cache = new ZipCache({ dir: root, maxBytes: 1 << 30, logger });
  assert.equal(await cache.lookup(key), body.length);
  const received: Buffer[] = [];
  await assert.rejects(async () => {
    for await (const chunk of cache.open(key, fixedBuild(counter, body))) received.push(chunk as Buffer);
  }, /checksum/);
  assert.ok(Buffer.concat(received).length < body.length, 'the final bytes never went out');
  assert.match(JSON.stringify(lines), /"reason":"checksum"/);
  assert.equal(await cache.lookup(key), null);
  assert.ok((await collect(cache.open(key, fixedBuild(counter, body)))).equals(body));
  assert.ok((await readFile(await cachedFile(root, key))).equals(body));
});

test("another process's build in progress is left alone; only a stale temporary file is removed, and one that cannot be removed breaks nothing", async () => {
  const root = join(dir, 'shared-folder');
  const bucket = join(root, 'zips', '00');
  await mkdir(bucket, { recursive: true });
  const fresh = join(bucket, `${keyOf(30)}.99999.aaaaaaaaaaaa.tmp`);
  const stale = join(bucket, `${keyOf(31)}.99998.bbbbbbbbbbbb.tmp`);
  // A stale "file" rm cannot remove (a folder): before, every zip of the process failed on it.
  const stuck = join(bucket, `${keyOf(32)}.99997.cccccccccccc.tmp`);
  await writeFile(fresh, 'PK partial');
  await writeFile(stale, 'PK partial');
  await mkdir(stuck);
  const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
  await utimes(stale, old, old);
  await utimes(stuck, old, old);
  const cache = new ZipCache({ dir: root, maxBytes: 1 << 30 });
  await cache.init();
  const names = await readdir(bucket);
  assert.ok(names.includes(`${keyOf(30)}.99999.aaaaaaaaaaaa.tmp`), 'a live build elsewhere keeps its file');
  assert.ok(!names.includes(`${keyOf(31)}.99998.bbbbbbbbbbbb.tmp`), "a dead build's file is removed");
  const counter = { builds: 0, aborted: 0 };
  assert.equal((await collect(cache.open(keyOf(33), slowBuild(counter, 4)))).length, 4096);
  assert.equal(await cache.lookup(keyOf(33)), 4096);
});

test('a second process on the same folder finds the zip the first one built', async () => {
  const root = join(dir, 'two-processes');
  const one = new ZipCache({ dir: root, maxBytes: 1 << 30 });
  const two = new ZipCache({ dir: root, maxBytes: 1 << 30 });
  await two.init();
  const counter = { builds: 0 };
  const body = bytesOf(600_000);
  await collect(one.open(keyOf(40), fixedBuild(counter, body)));
  assert.equal(await two.lookup(keyOf(40)), body.length);
  assert.ok((await collect(two.open(keyOf(40), fixedBuild(counter, body)))).equals(body));
  assert.equal(counter.builds, 1);
});

test('maxBytes counts the bytes of builds in flight', async () => {
  const root = join(dir, 'in-flight');
  const cache = new ZipCache({ dir: root, maxBytes: 10 * 1024 });
  const counter = { builds: 0, aborted: 0 };
  await collect(cache.open(keyOf(50), slowBuild(counter, 4)));
  await collect(cache.open(keyOf(51), slowBuild(counter, 4)));
  // 8 KiB cached; a build 4 KiB into its work already pushes the oldest out.
  const growing = cache.open(keyOf(52), slowBuild(counter, 100));
  let seen = 0;
  for await (const chunk of growing) {
    seen += (chunk as Buffer).length;
    if (seen >= 4096) break;
  }
  await until(async () => (await cache.lookup(keyOf(50))) === null);
});
