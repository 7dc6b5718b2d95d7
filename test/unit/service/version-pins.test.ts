import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ResolvedVersion } from '../../../src/modfetch/code-repo.js';
import { createDiskPins } from '../../../src/service/version-pins.js';

const pin: ResolvedVersion = { version: 'v1.0.0', commit: 'a'.repeat(40), time: 1_700_000_000 };

test('a pins folder that cannot be written keeps pins in memory, serves, and logs one line without a path', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pins-unwritable-'));
  try {
    // A file where the pins folder should be: every write fails.
    await writeFile(join(dir, 'pins'), 'not a folder');
    const lines: unknown[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (o: unknown) => lines.push(o) };
    const pins = createDiskPins(dir, 'scope', logger);
    await pins.set('example.com/m', 'v1.0.0', pin);
    await pins.set('example.com/m', 'v1.1.0', { ...pin, version: 'v1.1.0' });
    assert.deepEqual(await pins.get('example.com/m', 'v1.0.0'), pin);
    assert.equal(lines.length, 1, JSON.stringify(lines));
    assert.doesNotMatch(JSON.stringify(lines), new RegExp(dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
