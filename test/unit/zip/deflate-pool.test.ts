import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { DeflatePool } from '../../../src/zip/deflate-pool.js';

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
      ...Array.from({ length: 500 }, (_, i) => sample(i, 100 + ((i * 397) % 9000))),
      sample(7, 3 * 1024 * 1024), // larger than a batch on its own
    ];
    const outputs = await Promise.all(inputs.map((input) => pool.deflate(input, 6)));
    // Empty, one-byte and random inputs do not get smaller: null says "store it".
    assert.deepEqual([outputs[0], outputs[1], outputs[2]], [null, null, null]);
    outputs.slice(3).forEach((out, i) => {
      assert.ok(out !== null, `input ${i + 3}`);
      assert.ok(zlib.inflateRawSync(out).equals(inputs[i + 3]!), `input ${i + 3}`);
    });
    // Sync deflate at the same level gives the same bytes: same zlib, same parameters.
    assert.ok(outputs[100]?.equals(zlib.deflateRawSync(inputs[100]!, { level: 6 })));
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
    outputs.forEach((out, i) => {
      assert.ok(out?.equals(zlib.deflateRawSync(input, { level: levels[i]! })), `level ${levels[i]}`);
    });
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
    assert.ok(out && zlib.inflateRawSync(out).equals(sample(2, 1000)));
  } finally {
    await pool.close();
  }
});

test('deflate pool: jobs in flight when the pool closes reject; a later deflate starts a thread again', async () => {
  const pool = new DeflatePool({ threads: 1 });
  const pending = pool.deflate(sample(5, 4 * 1024 * 1024), 9);
  await pool.close();
  await assert.rejects(pending, /deflate thread stopped/);
  const out = await pool.deflate(Buffer.from('again and again and again'), 6);
  assert.equal(out && zlib.inflateRawSync(out).toString(), 'again and again and again');
  await pool.close();
});

test('deflate pool: idle threads stop, and start again for the next deflate', async () => {
  const pool = new DeflatePool({ threads: 2, idleMs: 50 });
  try {
    await Promise.all([pool.deflate(sample(1, 2_000_000), 6), pool.deflate(sample(2, 2_000_000), 6)]);
    assert.ok(pool.threadCount >= 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(pool.threadCount, 0);
    const out = await pool.deflate(sample(3, 1000), 6);
    assert.ok(out && zlib.inflateRawSync(out).equals(sample(3, 1000)));
    assert.equal(pool.threadCount, 1);
  } finally {
    await pool.close();
  }
});

test('deflate pool: options are checked', () => {
  assert.throws(() => new DeflatePool({ threads: 0 }), /threads must be/);
  assert.throws(() => new DeflatePool({ nice: 20 }), /nice must be/);
  assert.throws(() => new DeflatePool({ idleMs: -1 }), /idleMs must be/);
});

test('deflate pool: when its thread cannot start, it deflates in the threadpool instead', async () => {
  const pool = new DeflatePool({ threads: 1, workerUrl: new URL('./no-such-deflate-worker.js', import.meta.url) });
  try {
    const inputs = Array.from({ length: 50 }, (_, i) => sample(i, 2000 + i));
    const outputs = await Promise.all(inputs.map((input) => pool.deflate(input, 6)));
    outputs.forEach((out, i) => {
      assert.ok(out && zlib.inflateRawSync(out).equals(inputs[i]!));
    });
    assert.equal(await pool.deflate(randomBytes(1000), 6), null);
    const later = await pool.deflate(sample(99, 5000), 1);
    assert.ok(later && zlib.inflateRawSync(later).equals(sample(99, 5000)));
  } finally {
    await pool.close();
  }
});

test('deflate pool: a process waiting on the pool stays alive until the result, then exits', async () => {
  const poolUrl = new URL('../../../src/zip/deflate-pool.js', import.meta.url).href;
  // The only thing keeping this process alive is the deflate in flight; once the pool is idle it
  // must not hold the process open. --input-type must not reach the worker, which would refuse it.
  const script = `
    import { sharedDeflatePool } from ${JSON.stringify(poolUrl)};
    const out = await sharedDeflatePool().deflate(Buffer.alloc(5_000_000, 97), 9);
    console.log('deflated', out?.length);
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 });
  assert.match(stdout, /^deflated \d+\n$/);
});
