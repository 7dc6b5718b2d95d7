import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BrokenRepositoryError, NotFoundError } from '../../../src/errors.js';
import { openGitRepository } from '../../../src/git/open-repository.js';
import type { GitRepository } from '../../../src/git/repository.js';
import {
  buildRichRepo,
  type CatFileObject,
  catAllObjects,
  copyRepo,
  createSandbox,
  type RichRepo,
  type Sandbox,
} from '../../helpers/git-sample-repos.js';
import { type ObjectReaderKind, readerOptions } from '../../helpers/isomorphic-git-object-store.js';

let sandbox: Sandbox;
let repo: RichRepo;
let objects: CatFileObject[];
let commits: Array<{ oid: string; tree: string; parents: string[]; time: number }>;
let ancestry: Map<string, boolean>;

before(() => {
  sandbox = createSandbox();
  repo = buildRichRepo(sandbox);
  objects = catAllObjects(repo);
  commits = repo
    .text(['log', '--all', '--format=%H %T %ct %P'])
    .split('\n')
    .map((line) => {
      const [oid, tree, time, ...parents] = line.trim().split(' ');
      return { oid: oid!, tree: tree!, time: Number(time), parents: parents.filter((p) => p !== '') };
    });
  // Expected ancestry for every ordered pair, asked of git once for both readers.
  ancestry = new Map();
  for (const a of commits) {
    for (const d of commits) {
      let is = true;
      try {
        repo.raw(['merge-base', '--is-ancestor', a.oid, d.oid]);
      } catch {
        is = false;
      }
      ancestry.set(`${a.oid} ${d.oid}`, is);
    }
  }
});
after(() => sandbox.cleanup());

/** `git ls-tree -z` entries: mode, oid and the raw name bytes. */
function lsTree(tree: string): Array<{ mode: number; oid: string; name: Buffer }> {
  const out = repo.raw(['ls-tree', '-z', tree]);
  const entries = [];
  let pos = 0;
  while (pos < out.length) {
    const end = out.indexOf(0, pos);
    const tab = out.indexOf(0x09, pos);
    const [mode, , oid] = out.toString('latin1', pos, tab).split(' ');
    entries.push({ mode: parseInt(mode!, 8), oid: oid!, name: out.subarray(tab + 1, end) });
    pos = end + 1;
  }
  return entries;
}

describe('openGitRepository', () => {
  test('opens a work tree, its .git, a bare repository, and a bare one without config', async () => {
    const bare = sandbox.init('bare.git', { bare: true });
    bare.raw(['fetch', '-q', repo.gitdir, 'refs/heads/main:refs/heads/main']);
    const noConfig = copyRepo(sandbox, bare, 'no-config.git');
    rmSync(join(noConfig.gitdir, 'config'));
    for (const path of [repo.dir, repo.gitdir, bare.gitdir, noConfig.gitdir]) {
      const opened = await openGitRepository(path);
      assert.equal((await opened.readCommit(repo.commits.loose)).oid, repo.commits.loose, path);
      assert.equal((await opened.refs()).head, repo.commits.loose, path);
      await opened.close();
    }
  });

  test('anything else is NotFoundError, with no path in the message', async () => {
    const plain = join(sandbox.root, 'plain-dir');
    mkdirSync(plain, { recursive: true });
    for (const path of [plain, join(sandbox.root, 'does-not-exist'), join(repo.dir, 'README.md')]) {
      await assert.rejects(openGitRepository(path), (err: unknown) => {
        assert.ok(err instanceof NotFoundError);
        assert.equal(err.message, 'repository not found');
        return true;
      });
    }
  });
});

for (const reader of ['pack', 'isomorphic-git'] as const satisfies readonly ObjectReaderKind[]) {
  describe(`GitRepository (${reader})`, () => {
    let git: GitRepository;
    before(async () => {
      git = await openGitRepository(repo.dir, readerOptions(reader));
    });
    after(() => git.close());

    test('readCommit agrees with git log', async () => {
      for (const c of commits) {
        assert.deepEqual(await git.readCommit(c.oid), { oid: c.oid, tree: c.tree, parents: c.parents, committerTime: c.time });
      }
    });

    test('readTag, readTree, readBlob and blobSize agree with git, and check types', async () => {
      for (const object of objects) {
        if (object.type === 'tag') {
          const tag = await git.readTag(object.oid);
          const [, target] = /^object ([0-9a-f]{40})$/m.exec(object.data.toString())!;
          const [, type] = /^type (\w+)$/m.exec(object.data.toString())!;
          assert.deepEqual(tag, { oid: object.oid, object: target, type });
        } else if (object.type === 'tree') {
          const entries = await git.readTree(object.oid);
          const expected = lsTree(object.oid);
          assert.equal(entries.length, expected.length);
          entries.forEach((entry, i) => {
            const want = expected[i]!;
            assert.equal(entry.mode, want.mode);
            assert.equal(entry.oid, want.oid);
            assert.equal(entry.invalidUtf8, entry.name.includes('\ufffd'));
            if (!entry.invalidUtf8) assert.ok(Buffer.from(entry.name).equals(want.name));
          });
        } else if (object.type === 'blob') {
          assert.ok((await git.readBlob(object.oid)).equals(object.data));
          assert.equal(await git.blobSize(object.oid), object.data.length);
        }
        if (object.type !== 'commit') await assert.rejects(git.readCommit(object.oid), NotFoundError);
        if (object.type !== 'blob') {
          await assert.rejects(git.readBlob(object.oid), NotFoundError);
          await assert.rejects(git.blobSize(object.oid), NotFoundError);
        }
        if (object.type !== 'tree') await assert.rejects(git.readTree(object.oid), NotFoundError);
        if (object.type !== 'tag') await assert.rejects(git.readTag(object.oid), NotFoundError);
      }
      // Every id read comes from a ref or another object: a missing one is a broken repository
      // (a 500 naming no object), not a missing module (a 404 that sends go to the next proxy).
      const missing = 'f'.repeat(40);
      await assert.rejects(git.readCommit(missing), BrokenRepositoryError);
      await assert.rejects(git.readTag(missing), BrokenRepositoryError);
      await assert.rejects(git.readTree(missing), BrokenRepositoryError);
      await assert.rejects(git.readBlob(missing), BrokenRepositoryError);
      await assert.rejects(git.blobSize(missing), (err: Error) => err instanceof BrokenRepositoryError && !err.message.includes(missing));
    });

    test('a name that is not UTF-8 is flagged, and modes are kept', async () => {
      const entries = await git.readTree(repo.oddTree);
      const bad = entries.find((e) => e.name.startsWith('bad-'));
      assert.deepEqual(bad && { name: bad.name, invalidUtf8: bad.invalidUtf8 }, { name: 'bad-\ufffd\ufffd.txt', invalidUtf8: true });
      assert.equal(entries.find((e) => e.name === 'submodule')?.mode, 0o160000);
      const root = await git.readTree((await git.readCommit(repo.commits.c1)).tree);
      const modes = Object.fromEntries(root.map((e) => [e.name, e.mode]));
      assert.deepEqual(
        { exec: modes['exec.sh'], link: modes['link'], dir: modes['dir'], file: modes['README.md'], utf8: modes['héllo wörld.txt'] },
        { exec: 0o100755, link: 0o120000, dir: 0o040000, file: 0o100644, utf8: 0o100644 },
      );
    });

    test('lookupPath', async () => {
      const { tree } = await git.readCommit(repo.commits.merge);
      assert.deepEqual(await git.lookupPath(tree, ''), { mode: 0o040000, name: '', oid: tree, invalidUtf8: false });
      for (const path of ['README.md', 'dir', 'dir/sub', 'dir/sub/b.go', 'héllo wörld.txt', 'feature.txt']) {
        const entry = await git.lookupPath(tree, path);
        assert.equal(entry?.oid, repo.text(['rev-parse', `${repo.commits.merge}:${path}`]), path);
        assert.equal(entry?.name, path.split('/').pop());
      }
      for (const path of ['missing', 'dir/missing', 'README.md/x', 'dir//sub', 'dir/', '/dir', 'dir/sub/b.go/c']) {
        assert.equal(await git.lookupPath(tree, path), null, path);
      }
      await assert.rejects(git.lookupPath('e'.repeat(40), 'README.md'), BrokenRepositoryError);
      assert.equal(await git.lookupPath('e'.repeat(40), ''), null);
    });

    test('isAncestor agrees with git merge-base --is-ancestor', async () => {
      for (const [pair, expected] of ancestry) {
        const [a, d] = pair.split(' ') as [string, string];
        assert.equal(await git.isAncestor(a, d), expected, pair);
      }
      await assert.rejects(git.isAncestor(repo.commits.c1, 'd'.repeat(40)), BrokenRepositoryError);
      assert.equal(await git.isAncestor('d'.repeat(40), repo.commits.c1), false);
    });

    test('ancestors agrees with git rev-list, and is cached', async () => {
      for (const c of commits) {
        const expected = new Set(repo.text(['rev-list', c.oid]).split('\n'));
        const got = await git.ancestors(c.oid);
        assert.deepEqual(new Set(got), expected);
        assert.equal(await git.ancestors(c.oid), got);
      }
      const [first, second] = await Promise.all([git.ancestors(repo.commits.loose), git.ancestors(repo.commits.loose)]);
      assert.equal(first, second);
      // With the set cached, isAncestor answers from it.
      assert.equal(await git.isAncestor(repo.commits.c3, repo.commits.loose), true);
      await assert.rejects(git.ancestors('d'.repeat(40)), BrokenRepositoryError);
    });

    test('reachableFrom agrees with git rev-list over the same tips, leaves out tips that are not commits, and walks only new tips after additions', async () => {
      const tips = commits.map((c) => c.oid);
      const rev = (oids: string[]): Set<string> =>
        new Set(
          repo
            .text(['rev-list', ...oids])
            .split('\n')
            .filter(Boolean),
        );
      const tree = commits[0]!.tree;
      const all = await git.reachableFrom([...tips, tree]);
      assert.deepEqual(new Set(all), rev(tips));
      assert.equal(await git.reachableFrom([tree, ...tips].reverse()), all, 'the same tips in another order are the same answer');
      // Fewer tips: a tip went away, so everything is walked again and nothing stale remains.
      const one = commits.find((c) => c.parents.length === 0)!.oid;
      assert.deepEqual(new Set(await git.reachableFrom([one])), rev([one]));
      // More tips than last time: only the additions' history is new, and the answer is complete.
      assert.deepEqual(new Set(await git.reachableFrom([one, ...tips.slice(0, 3)])), rev([one, ...tips.slice(0, 3)]));
      assert.deepEqual(await git.objectType(tree), 'tree');
      assert.equal(await git.objectType('e'.repeat(40)), null);
    });

    test('findByPrefix finds packed and loose objects', async () => {
      const all = objects.map((o) => o.oid);
      for (const object of objects) {
        for (const length of [4, 5, 12, 40]) {
          const prefix = object.oid.slice(0, length);
          assert.deepEqual(await git.findByPrefix(prefix), all.filter((o) => o.startsWith(prefix)).sort());
        }
      }
      assert.deepEqual(await git.findByPrefix('abc'), []);
      assert.deepEqual(await git.findByPrefix('not-hex'), []);
    });

    test('concurrent calls on a fresh repository', async () => {
      const fresh = await openGitRepository(repo.gitdir, readerOptions(reader));
      const results = await Promise.all(
        commits.flatMap((c) => [fresh.readCommit(c.oid).then((r) => r.tree), fresh.refs().then((r) => r.head ?? '')]),
      );
      commits.forEach((c, i) => {
        assert.equal(results[i * 2], c.tree);
      });
      await fresh.close();
    });
  });
}
