import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { DeflatePool } from '../../src/deflate-pool.js';

const run = promisify(execFile);

function sample(seed: number, size: number): Buffer {
  // Compressible text with some randomness, so outputs differ by input and by level.
  const words = ['module', 'func', 'return', 'package', 'import', 'var', String(seed)];
  let text = '';
  let x = seed + 1;
  while (text.length < size) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    text += words[x % words.length] + (x % 7 === 0 ? '\n' : ' ');
  }
  return Buffer.from(text.slice(0, size));
}

test('deflate pool: every output inflates back to its input, in any batch shape', async () => {
  const pool = new DeflatePool({ threads: 2 });
  try {
    const inputs = [
      Buffer.alloc(0),
      Buffer.from('x'),
      randomBytes(200_000),
      ...Array.from({ length: 500 }, (_, i) => sample(i, (i * 397) % 9000)),
      sample(7, 3 * 1024 * 1024), // larger than a batch on its own
    ];
    const outputs = await Promise.all(inputs.map((input) => pool.deflate(input, 6)));
    outputs.forEach((out, i) => assert.ok(zlib.inflateRawSync(out).equals(inputs[i]!), `input ${i}`));
    // Sync deflate at the same level gives the same bytes: same zlib, same parameters.
    assert.ok(outputs[100]!.equals(zlib.deflateRawSync(inputs[100]!, { level: 6 })));
  } finally {
    await pool.close();
  }
});

test('deflate pool: levels queued in the same turn are kept apart', async () => {
  const pool = new DeflatePool({ threads: 1 });
  try {
    const input = sample(3, 50_000);
    const levels = [1, 9, 1, 6, 9, 1];
    const outputs = await Promise.all(levels.map((level) => pool.deflate(input, level)));
    outputs.forEach((out, i) => assert.ok(out.equals(zlib.deflateRawSync(input, { level: levels[i]! })), `level ${levels[i]}`));
    assert.notEqual(outputs[0]!.length, outputs[1]!.length);
  } finally {
    await pool.close();
  }
});

test('deflate pool: a failing batch rejects its jobs, and the pool keeps working', async () => {
  const pool = new DeflatePool({ threads: 1 });
  try {
    await assert.rejects(pool.deflate(sample(1, 1000), 42), /deflate failed/);
    const out = await pool.deflate(sample(2, 1000), 6);
    assert.ok(zlib.inflateRawSync(out).equals(sample(2, 1000)));
  } finally {
    await pool.close();
  }
});

test('deflate pool: jobs in flight when the pool closes reject; a later deflate starts a thread again', async () => {
  const pool = new DeflatePool({ threads: 1 });
  const pending = pool.deflate(sample(5, 4 * 1024 * 1024), 9);
  await pool.close();
  await assert.rejects(pending, /deflate thread stopped/);
  const out = await pool.deflate(Buffer.from('again'), 6);
  assert.equal(zlib.inflateRawSync(out).toString(), 'again');
  await pool.close();
});

test('deflate pool: options are checked', () => {
  assert.throws(() => new DeflatePool({ threads: 0 }), /threads must be/);
  assert.throws(() => new DeflatePool({ nice: 20 }), /nice must be/);
});

test('deflate pool: a process waiting on the pool stays alive until the result, then exits', async () => {
  const poolUrl = new URL('../../src/deflate-pool.js', import.meta.url).href;
  // The only thing keeping this process alive is the deflate in flight; once the pool is idle it
  // must not hold the process open.
  const script = `
    import { sharedDeflatePool } from ${JSON.stringify(poolUrl)};
    const out = await sharedDeflatePool().deflate(Buffer.alloc(5_000_000, 97), 9);
    console.log('deflated', out.length);
  `;
  const dir = await mkdtemp(join(tmpdir(), 'deflate-pool-'));
  try {
    const file = join(dir, 'wait.mjs');
    await writeFile(file, script);
    const { stdout } = await run(process.execPath, [file], { timeout: 20_000 });
    assert.match(stdout, /^deflated \d+\n$/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
