import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { UnknownRevisionError } from '../../../src/errors.js';
import { openGitRepository } from '../../../src/git/open-repository.js';
import type { GitRepository } from '../../../src/git/repository.js';
import { CodeHost } from '../../../src/modfetch/code-host.js';
import { commitTree, makeBareRepository, makeTempDir, standardHistory } from '../../http/fixtures.js';

const run = promisify(execFile);
let temp: { dir: string; remove(): Promise<void> };
let gitdir: string;

before(async () => {
  temp = await makeTempDir();
  gitdir = path.join(temp.dir, 'r.git');
  await makeBareRepository(gitdir, standardHistory('gitlab.example.com/group/r'));
  // Two commits on a side branch: the first is reachable, but no ref names it.
  const a = await commitTree(gitdir, { treeOf: 'main', parents: ['main'] });
  const b = await commitTree(gitdir, { treeOf: 'main', parents: [a] });
  await run('git', ['-C', gitdir, 'update-ref', 'refs/heads/side', b]);
});
after(() => temp.remove());

/** The repository, counting the history walks asked of it. */
function counting(repo: GitRepository): { repo: GitRepository; walks: () => number } {
  let walks = 0;
  const counted = Object.create(repo) as GitRepository;
  counted.reachableFrom = (tips) => {
    walks++;
    return repo.reachableFrom(tips);
  };
  counted.ancestors = (commit) => {
    walks++;
    return repo.ancestors(commit);
  };
  return { repo: counted, walks: () => walks };
}

const git = async (...args: string[]): Promise<string> => (await run('git', ['-C', gitdir, ...args])).stdout.trim();

test('a hash prefix of a blob or tree is an unknown revision at once: no history walk', async () => {
  const repository = await openGitRepository(gitdir);
  try {
    const { repo, walks } = counting(repository);
    const host = new CodeHost(repo, await repository.refs());
    for (const rev of [await git('rev-parse', 'v1.0.0:hello.go'), await git('rev-parse', 'v1.0.0^{tree}')]) {
      await assert.rejects(host.stat(rev.slice(0, 12)), UnknownRevisionError);
    }
    assert.equal(walks(), 0);
  } finally {
    await repository.close();
  }
});

test('a commit that is not a tip needs the walk, once per refs state, however many queries', async () => {
  const repository = await openGitRepository(gitdir);
  try {
    const { repo, walks } = counting(repository);
    const host = new CodeHost(repo, await repository.refs());
    const named = new Set((await git('for-each-ref', '--format=%(objectname) %(*objectname)')).split(/\s+/));
    const unnamed = (await git('rev-list', '--all')).split('\n').find((c) => !named.has(c))!;
    assert.ok(unnamed, 'a commit no ref names');
    for (let i = 0; i < 3; i++) assert.equal((await host.stat(unnamed.slice(0, 12))).name, unnamed);
    assert.equal(walks(), 1);
  } finally {
    await repository.close();
  }
});
