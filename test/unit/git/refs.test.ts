import assert from 'node:assert/strict';
import { readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createPackObjectStore } from '../../../src/git/pack-object-store.js';
import { createRefReader } from '../../../src/git/refs.js';
import type { ObjectStore, RefSnapshot, RefTarget } from '../../../src/git/types.js';
import {
  buildRichRepo,
  commitAll,
  copyRepo,
  createSandbox,
  type GitRunner,
  type RichRepo,
  type Sandbox,
  writeWorkFile,
} from '../../helpers/git-sample-repos.js';

interface ExpectedRefs {
  branches: Map<string, string>;
  tags: Map<string, RefTarget>;
}

/** refs/heads and refs/tags as git reports them; peeled ids come from `<ref>^{}`. */
function gitRefs(git: GitRunner): ExpectedRefs {
  const lines = git
    .text(['for-each-ref', '--format=%(refname) %(objectname) %(*objectname) %(*objecttype)', 'refs/heads', 'refs/tags'])
    .split('\n')
    .filter((l) => l !== '');
  const branches = new Map<string, string>();
  const tags = new Map<string, RefTarget>();
  const tagNames: string[] = [];
  for (const line of lines) {
    // Trailing empty fields may have been trimmed away with the output's last newline.
    const [name = '', oid = '', deref = '', derefType = ''] = line.split(' ');
    if (name.startsWith('refs/heads/')) branches.set(name.slice(11), oid);
    else {
      tagNames.push(name);
      // %(*objectname) peels one level; for a tag of a tag it is still a tag.
      tags.set(name.slice(10), { oid, peeled: deref === '' ? oid : derefType === 'tag' ? '?' : deref });
    }
  }
  const peeled = git.text(['rev-parse', ...tagNames.map((n) => `${n}^{}`)]).split('\n');
  tagNames.forEach((name, i) => {
    const target = tags.get(name.slice(10))!;
    if (target.peeled !== '?') assert.equal(target.peeled, peeled[i], name);
    target.peeled = peeled[i]!;
  });
  return { branches, tags };
}

function assertMatches(snapshot: RefSnapshot, expected: ExpectedRefs): void {
  assert.deepEqual(new Map([...snapshot.branches].sort()), new Map([...expected.branches].sort()));
  assert.deepEqual(new Map([...snapshot.tags].sort()), new Map([...expected.tags].sort()));
}

/** Moves the mtimes of HEAD, packed-refs and every directory under refs/ an hour back. */
function backdate(gitdir: string): void {
  const past = Date.now() / 1000 - 3600;
  const touch = (path: string): void => {
    try {
      utimesSync(path, past, past);
    } catch {
      // missing files are fine
    }
  };
  touch(join(gitdir, 'HEAD'));
  touch(join(gitdir, 'packed-refs'));
  const walk = (dir: string): void => {
    touch(dir);
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) walk(join(dir, entry.name));
  };
  walk(join(gitdir, 'refs'));
}

let sandbox: Sandbox;
let template: RichRepo | undefined;
before(() => {
  sandbox = createSandbox();
});
after(() => sandbox.cleanup());

/** A fresh copy of one rich repository per suite: copying is much faster than building. */
function richRepo(name: string): RichRepo {
  template ??= buildRichRepo(sandbox, 'template');
  return copyRepo(sandbox, template, name);
}

describe('refs of a repository with packed and loose refs', () => {
  let repo: RichRepo;
  let objects: ObjectStore;
  before(async () => {
    repo = richRepo('rich');
    objects = await createPackObjectStore(repo.gitdir);
  });
  after(() => objects.close());

  test('packed-refs really has peeled lines and loose refs exist', () => {
    const packed = readdirSync(repo.gitdir).includes('packed-refs');
    assert.ok(packed);
    assert.ok(statSync(join(repo.gitdir, 'refs', 'tags', 'v1.3.0')).isFile());
  });

  test('branches, tags and peeled tags agree with git for-each-ref', async () => {
    const snapshot = await createRefReader(repo.gitdir, objects).snapshot();
    assertMatches(snapshot, gitRefs(repo));
    assert.equal(snapshot.headBranch, 'main');
    assert.equal(snapshot.head, repo.text(['rev-parse', 'HEAD']));
    assert.equal(snapshot.tags.get('v1.2.0-signed')?.peeled, repo.commits.merge);
    assert.equal(snapshot.tags.get('tree-tag')?.peeled, repo.text(['rev-parse', `${repo.commits.c1}^{tree}`]));
    assert.equal(snapshot.branches.get('feature'), repo.commits.c4, 'the loose ref overrides the packed one');
    assert.ok(snapshot.branches.has('topic/deep/branch'));
    assert.ok(![...snapshot.branches.keys()].some((b) => b.includes('pull')));
  });

  test('sees changes, and keeps the stateKey when only the storage of refs changes', async () => {
    const reader = createRefReader(repo.gitdir, objects);
    const first = await reader.snapshot();
    assert.equal((await reader.snapshot()).stateKey, first.stateKey);

    repo.raw(['tag', '-a', '-m', 'new', 'v9.0.0', repo.commits.c2]);
    const added = await reader.snapshot();
    assert.notEqual(added.stateKey, first.stateKey);
    assert.equal(added.tags.get('v9.0.0')?.peeled, repo.commits.c2);

    repo.raw(['pack-refs', '--all']);
    const packed = await reader.snapshot();
    assert.equal(packed.stateKey, added.stateKey);
    assertMatches(packed, gitRefs(repo));

    repo.raw(['tag', '-d', 'v9.0.0']);
    repo.raw(['update-ref', 'refs/heads/feature', repo.commits.c3]);
    const changed = await reader.snapshot();
    assert.equal(changed.tags.has('v9.0.0'), false);
    assert.equal(changed.branches.get('feature'), repo.commits.c3);
    assertMatches(changed, gitRefs(repo));
  });

  test('a symbolic ref under refs/heads resolves to its target', async () => {
    repo.raw(['symbolic-ref', 'refs/heads/alias', 'refs/heads/main']);
    const snapshot = await createRefReader(repo.gitdir, objects).snapshot();
    assert.equal(snapshot.branches.get('alias'), snapshot.branches.get('main'));
    repo.raw(['symbolic-ref', '--delete', 'refs/heads/alias']);
  });
});

describe('change detection without re-reading', () => {
  test('unchanged stats return the cached snapshot; a ref write in a new directory is seen', async () => {
    const repo = richRepo('cached');
    const objects = await createPackObjectStore(repo.gitdir);
    const reader = createRefReader(repo.gitdir, objects);
    backdate(repo.gitdir);
    const first = await reader.snapshot();
    // The first read may have adopted a new directory list; the next one settles it.
    const second = await reader.snapshot();
    assert.equal(await reader.snapshot(), second, 'same object: nothing was re-read');
    assert.equal(second.stateKey, first.stateKey);

    // Rewriting a loose ref's file in place (as no git command does) is not noticed while the
    // directory stats stay the same: that is the price of not statting every ref file.
    writeFileSync(join(repo.gitdir, 'refs', 'heads', 'feature'), `${repo.commits.c1}\n`);
    assert.equal(await reader.snapshot(), second);

    repo.raw(['update-ref', 'refs/heads/new/nested/branch', repo.commits.c2]);
    const third = await reader.snapshot();
    assert.equal(third.branches.get('new/nested/branch'), repo.commits.c2);
    assert.equal(third.branches.get('feature'), repo.commits.c1);
    assert.notEqual(third.stateKey, second.stateKey);

    const concurrent = await Promise.all(Array.from({ length: 20 }, () => reader.snapshot()));
    for (const s of concurrent) assert.equal(s.stateKey, third.stateKey);
    await objects.close();
  });
});

describe('HEAD', () => {
  test('detached, dangling, and empty repositories', async () => {
    const repo = sandbox.init('head');
    writeWorkFile(repo, 'a.txt', 'a\n');
    const c1 = commitAll(repo, 'one', 1_700_000_100);
    const objects = await createPackObjectStore(repo.gitdir);
    const reader = createRefReader(repo.gitdir, objects);
    assert.deepEqual([(await reader.snapshot()).headBranch, (await reader.snapshot()).head], ['main', c1]);

    repo.raw(['checkout', '-q', '--detach']);
    let snapshot = await reader.snapshot();
    assert.deepEqual([snapshot.headBranch, snapshot.head], [null, c1]);

    repo.raw(['symbolic-ref', 'HEAD', 'refs/heads/missing']);
    snapshot = await reader.snapshot();
    assert.deepEqual([snapshot.headBranch, snapshot.head], [null, null]);
    await objects.close();

    const empty = sandbox.init('empty', { bare: true });
    const emptyObjects = await createPackObjectStore(empty.gitdir);
    snapshot = await createRefReader(empty.gitdir, emptyObjects).snapshot();
    assert.deepEqual([snapshot.headBranch, snapshot.head, snapshot.tags.size, snapshot.branches.size], [null, null, 0, 0]);
    await emptyObjects.close();
  });
});

describe('packed-refs without peeled lines', () => {
  test('annotated tags are peeled by reading tag objects, following tag chains', async () => {
    const source = richRepo('old-style');
    const refs = source.text(['for-each-ref', '--format=%(objectname) %(refname)']);
    // An old-style packed-refs file: no traits header, no "^" lines; and no loose refs at all.
    writeFileSync(join(source.gitdir, 'packed-refs'), `${refs}\n`);
    rmSync(join(source.gitdir, 'refs', 'heads'), { recursive: true });
    rmSync(join(source.gitdir, 'refs', 'tags'), { recursive: true });
    const objects = await createPackObjectStore(source.gitdir);
    const snapshot = await createRefReader(source.gitdir, objects).snapshot();
    assertMatches(snapshot, gitRefs(source));
    assert.equal(snapshot.tags.get('v1.2.0-signed')?.peeled, source.commits.merge);
    assert.equal(snapshot.tags.get('blob-tag')?.peeled, source.text(['rev-parse', `${source.commits.c1}:README.md`]));
    await objects.close();
  });
});
