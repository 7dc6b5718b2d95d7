import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import JSZip from 'jszip';
import { hashFiles } from '../../src/dirhash.js';
import { createProjectServices } from '../../src/project-services.js';
import { createFixtureWorld, type BuiltRepo, type FixtureWorld } from '../helpers/fixtures.js';

/**
 * The opt-in zip-build thread (`zipBuildThread: true`) must produce a zip with the same `h1:` as
 * building on the main thread, across .gitattributes conversions, a nested module and a vendor
 * tree; and a build abandoned by its client must not leave the thread stuck.
 */

let world: FixtureWorld;
let repo: BuiltRepo;

before(async () => {
  world = await createFixtureWorld('goproxy-zip-thread-');
  const big = Buffer.alloc(3 * 1024 * 1024, 'all work and no play\n');
  repo = await world.build({
    name: 'threaded',
    commits: [
      {
        date: '2021-01-04T10:00:00+02:00',
        tree: {
          'go.mod': 'module github.com/testorg/threaded\n\ngo 1.16\n',
          '.gitattributes': '*.txt eol=crlf\nident.go ident\n',
          'a.go': 'package threaded\n',
          'ident.go': '// $Id$\npackage threaded\n',
          'notes.txt': 'line1\nline2\n',
          'big.txt': big,
          'vendor/modules.txt': '# modules\n',
          'vendor/x/y.go': 'package y\n',
          'sub/go.mod': 'module github.com/testorg/threaded/sub\n',
          'sub/s.go': 'package sub\n',
        },
        tags: ['v1.0.0'],
      },
    ],
  });
});

after(async () => {
  await world?.dispose();
});

async function zipHash(zipBuildThread: boolean): Promise<string> {
  const services = createProjectServices({ modulePrefix: 'github.com', zipBuildThread });
  try {
    const service = await services.get({ id: 1, fullPath: repo.fullPath, gitdir: repo.gitdir });
    const zip = await service.zip(repo.modulePath, 'v1.0.0');
    const chunks: Buffer[] = [];
    for await (const chunk of zip.open()) chunks.push(chunk as Buffer);
    const archive = await JSZip.loadAsync(Buffer.concat(chunks));
    const files = await Promise.all(
      Object.values(archive.files).map(async (f) => ({ name: f.name, content: await f.async('nodebuffer') })),
    );
    return hashFiles(files);
  } finally {
    await services.close();
  }
}

test('a zip built on the zip-build thread hashes like one built on the main thread', async () => {
  const [threaded, inline] = [await zipHash(true), await zipHash(false)];
  assert.match(threaded, /^h1:/);
  assert.equal(threaded, inline);
});

test('destroying a threaded zip stream mid-build leaves the thread able to build again', async () => {
  const services = createProjectServices({ modulePrefix: 'github.com', zipBuildThread: true });
  try {
    const service = await services.get({ id: 1, fullPath: repo.fullPath, gitdir: repo.gitdir });
    const first = (await service.zip(repo.modulePath, 'v1.0.0')).open();
    await new Promise<void>((resolve) => first.once('data', () => resolve()));
    first.destroy();
    let bytes = 0;
    for await (const chunk of (await service.zip(repo.modulePath, 'v1.0.0')).open()) bytes += (chunk as Buffer).length;
    assert.ok(bytes > 1000, `second build gave ${bytes} bytes`);
  } finally {
    await services.close();
  }
});
