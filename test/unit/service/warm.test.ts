import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RefSnapshot } from '../../../src/git/types.js';
import { modulePathsFromTags } from '../../../src/service/warm.js';

function refsWithTags(...names: string[]): RefSnapshot {
  const oid = 'a'.repeat(40);
  return { stateKey: 'k', headBranch: 'main', head: oid, branches: new Map(), tags: new Map(names.map((n) => [n, { oid, peeled: oid }])) };
}

test('warm finds every module the tags name: the root, /vN majors, subdirectory modules and theirs', () => {
  const root = 'gitlab.example.com/group/project';
  const paths = modulePathsFromTags(
    refsWithTags(
      'v0.1.0',
      'v1.0.0',
      'v2.0.0',
      'v3.1.0-rc.1',
      'tools/v1.2.0',
      'tools/v2.0.0',
      'api/v0.0.1',
      'v1.0',
      'latest',
      'v1.0.0-20200101000000-0123456789ab',
      // Not version tags, so they name no module: short forms and pseudo-versions.
      'short/v1.0',
      'pseudo/v1.0.0-20200101000000-0123456789ab',
    ),
    root,
  );
  assert.deepEqual(paths, [root, `${root}/api`, `${root}/tools`, `${root}/tools/v2`, `${root}/v2`, `${root}/v3`]);
});
