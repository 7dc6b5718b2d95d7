import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createProjectServices } from '../../../src/service/project-services.js';
import { makeBareRepository, makeTempDir } from '../../http/fixtures.js';

const PREFIX = 'gitlab.example.com';
let temp: { dir: string; remove(): Promise<void> };

before(async () => {
  temp = await makeTempDir();
});
after(() => temp.remove());

test("the .mod of a version whose go.mod is over Go's 16 MiB limit is refused like its zip", async () => {
  const gitdir = path.join(temp.dir, 'big.git');
  const big = `module ${PREFIX}/group/big\n\n// ${'x'.repeat(17 * 1024 * 1024)}\n`;
  await makeBareRepository(gitdir, [{ date: '2024-01-10T10:00:00Z', files: { 'go.mod': big }, tag: 'v1.0.0' }]);
  const services = createProjectServices({ modulePrefix: PREFIX });
  try {
    const lease = await services.acquire({ id: 1, fullPath: 'group/big', gitdir });
    try {
      const mod = `${PREFIX}/group/big`;
      await assert.rejects(lease.service.zip(mod, 'v1.0.0'), /go\.mod file too large/);
      await assert.rejects(lease.service.goMod(mod, 'v1.0.0'), (err: Error & { kind?: string }) => {
        assert.equal(err.kind, 'not-found');
        assert.match(err.message, /go\.mod file too large/);
        return true;
      });
    } finally {
      lease.release();
    }
  } finally {
    await services.close();
  }
});
