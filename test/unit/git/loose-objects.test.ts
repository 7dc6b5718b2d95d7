import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { InternalError } from '../../../src/errors.js';
import { LooseObjects } from '../../../src/git/loose-objects.js';

// A corrupt object must be an error (a 5xx), never bytes served as if they were the object.
const dir = mkdtempSync(join(tmpdir(), 'loose-objects-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const loose = new LooseObjects(dir);

let n = 0;
function writeLoose(inflated: string): string {
  const oid = (++n).toString(16).padStart(40, 'a');
  mkdirSync(join(dir, oid.slice(0, 2)), { recursive: true });
  writeFileSync(join(dir, oid.slice(0, 2), oid.slice(2)), deflateSync(Buffer.from(inflated, 'latin1')));
  return oid;
}

test('a well-formed loose object reads back with its type and size', async () => {
  const oid = writeLoose('blob 5\0hello');
  assert.deepEqual(await loose.header(oid), { type: 'blob', size: 5 });
  const object = await loose.read(oid);
  assert.equal(object?.type, 'blob');
  assert.equal(object?.data.toString(), 'hello');
  assert.equal(await loose.read('b'.repeat(40)), null, 'absent: null, not an error');
});

test('a loose object with a bad type, a bad size or a size that lies is corrupt', async () => {
  for (const inflated of ['blub 5\0hello', 'blob x5\0hello', 'blob \0hello', 'blob 4\0hello', 'blob5\0hello', 'blob 5 hello']) {
    const oid = writeLoose(inflated);
    await assert.rejects(
      loose.read(oid),
      (err: unknown) => err instanceof InternalError && /corrupt loose object/.test(err.message),
      inflated,
    );
  }
  for (const inflated of ['blub 5\0hello', 'blob x5\0hello']) {
    await assert.rejects(loose.header(writeLoose(inflated)), InternalError, inflated);
  }
});
