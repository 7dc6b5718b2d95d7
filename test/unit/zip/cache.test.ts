import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
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
