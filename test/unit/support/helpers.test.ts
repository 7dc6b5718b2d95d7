import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { z } from 'zod';
import { ConfigError } from '../../../src/errors.js';
import { coalesce } from '../../../src/support/coalesce.js';
import { isMissing, isNotDirectory, isWrongFileKind } from '../../../src/support/fs-errors.js';
import { ownedBuffer, retainedBytes } from '../../../src/support/owned-buffer.js';
import { createYielder } from '../../../src/support/yielder.js';
import { parseOrThrow } from '../../../src/support/zod-errors.js';

function fsError(code: string): Error {
  return Object.assign(new Error(code), { code });
}

test('fs error tests: true only for an Error carrying one of the codes, never a throw for odd values', () => {
  assert.equal(isMissing(fsError('ENOENT')), true);
  assert.equal(isMissing(fsError('EACCES')), false);
  assert.equal(isMissing(new Error('ENOENT')), false);
  // Anything can be thrown; the tests run in catch blocks and must not throw themselves.
  for (const odd of [undefined, null, 'ENOENT', { code: 'ENOENT' }, Object.assign(new Error(), { code: 2 })]) {
    assert.equal(isMissing(odd), false, String(odd));
  }
  assert.equal(isNotDirectory(fsError('ENOTDIR')), true);
  assert.equal(isNotDirectory(fsError('EISDIR')), false);
  assert.equal(isWrongFileKind(fsError('EISDIR')), true);
  assert.equal(isWrongFileKind(fsError('ENOTDIR')), true);
  assert.equal(isWrongFileKind(fsError('ENOENT')), false);
});

test('ownedBuffer copies a view of a larger allocation and keeps a buffer that owns its bytes', () => {
  const whole = Buffer.allocUnsafeSlow(64).fill(7);
  assert.equal(ownedBuffer(whole), whole);
  const big = Buffer.alloc(1000, 1);
  for (const view of [big.subarray(0, 10), big.subarray(10, 20), Buffer.from('pooled')]) {
    const owned = ownedBuffer(view);
    assert.notEqual(owned, view);
    assert.deepEqual(owned, view);
    assert.equal(owned.buffer.byteLength, view.length);
    assert.equal(retainedBytes(owned, 0), view.length);
  }
  assert.equal(retainedBytes(big.subarray(0, 1)), 1000 + 128, 'a view costs its whole allocation');
});

test('coalesce: callers during a run share the next run; a caller after it ends starts a new one', async () => {
  let runs = 0;
  const gates: (() => void)[] = [];
  const refresh = coalesce(
    () =>
      new Promise<number>((resolve) => {
        const n = ++runs;
        gates.push(() => resolve(n));
      }),
  );
  const first = refresh();
  const second = refresh();
  const third = refresh();
  assert.equal(runs, 1);
  gates.shift()!();
  assert.equal(await first, 1);
  await nextTurn();
  assert.equal(runs, 2, 'callers during run 1 share one run that started after they called');
  gates.shift()!();
  assert.equal(await second, 2);
  assert.equal(await third, 2);
  const fourth = refresh();
  assert.equal(runs, 3, 'nothing under way: a new run at once');
  gates.shift()!();
  assert.equal(await fourth, 3);
});

test('coalesce: a failed run does not stop the next one', async () => {
  let runs = 0;
  const refresh = coalesce(async () => {
    runs++;
    if (runs === 1) throw new Error('first fails');
    return runs;
  });
  const first = refresh();
  const second = refresh();
  await assert.rejects(first, /first fails/);
  assert.equal(await second, 2);
  assert.equal(await refresh(), 3);
});

test('yielder: no turn given within the budget, a turn after it', async () => {
  const maybeYield = createYielder(60_000);
  assert.equal(maybeYield(), undefined);
  const always = createYielder(0);
  const turn = always();
  assert.ok(turn instanceof Promise);
  await turn;
});

test('parseOrThrow names the file and the key, array indexes in brackets, one line per problem', () => {
  const schema = z.object({ projects: z.array(z.object({ id: z.number() })), port: z.number() });
  assert.deepEqual(parseOrThrow(schema, { projects: [{ id: 1 }], port: 1 }, 'f.json'), { projects: [{ id: 1 }], port: 1 });
  assert.throws(
    () => parseOrThrow(schema, { projects: [{ id: 1 }, { id: 'x' }], port: 'y' }, 'f.json'),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const lines = err.message.split('\n');
      assert.equal(lines.length, 2);
      assert.match(lines[0]!, /^f\.json: projects\[1\]\.id: /);
      assert.match(lines[1]!, /^f\.json: port: /);
      return true;
    },
  );
  assert.throws(() => parseOrThrow(schema, 'not an object', 'f.json'), /^ConfigError|f\.json: [^:]/);
});
