import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { NotFoundError } from '../../../src/errors.js';
import { openGitRepository } from '../../../src/git/open-repository.js';
import type { GitRepository } from '../../../src/git/repository.js';
import { createModuleService, type ModuleService } from '../../../src/service/module-service.js';
import { createMemoryPins } from '../../../src/service/version-pins.js';
import { makeBareRepository, makeTempDir } from '../../http/fixtures.js';

// Go's codeRepo.convert (canUseIncompatible): "+incompatible" is only for the repository root's
// module without a /vN suffix; a module in a subdirectory, or one with /vN, never has it.
const ROOT = 'gitlab.example.com/group/nomod';

let temp: { dir: string; remove(): Promise<void> };
let repository: GitRepository;
let service: ModuleService;

before(async () => {
  temp = await makeTempDir();
  const gitdir = path.join(temp.dir, 'nomod.git');
  // No go.mod at the root, v2 tags at the root and in a subdirectory.
  await makeBareRepository(gitdir, [
    { date: '2024-01-10T10:00:00Z', files: { 'a.go': 'package a\n', 'sub/s.go': 'package sub\n' }, tag: 'v2.0.0' },
    // A subdirectory module needs its go.mod (Go's findDir); the root still has none.
    {
      date: '2024-01-11T10:00:00Z',
      files: { 'a.go': 'package a\n', 'sub/go.mod': `module ${ROOT}/sub\n`, 'sub/s.go': 'package sub\n' },
      tag: 'sub/v2.0.0',
    },
  ]);
  repository = await openGitRepository(gitdir);
  service = createModuleService({ repository, codeRoot: ROOT, pins: createMemoryPins() });
});

after(async () => {
  await repository.close();
  await temp.remove();
});

test('the root module without go.mod serves v2 tags as +incompatible', async () => {
  assert.equal((await service.info(ROOT, 'v2.0.0+incompatible')).Version, 'v2.0.0+incompatible');
});

test('a module in a subdirectory, or with /vN, has no +incompatible versions', async () => {
  for (const [module, version] of [
    [`${ROOT}/sub`, 'v2.0.0'],
    [`${ROOT}/sub`, 'v2.0.0+incompatible'],
    [`${ROOT}/v2`, 'v2.0.0+incompatible'],
  ] as const) {
    await assert.rejects(service.info(module, version), NotFoundError, `${module}@${version}`);
  }
});

test("a major whose latest version has a go.mod lists none of its +incompatible versions (Go's appendIncompatibleVersions)", async () => {
  const gitdir = path.join(temp.dir, 'majors.git');
  const mod = 'gitlab.example.com/group/majors';
  await makeBareRepository(gitdir, [
    { date: '2024-02-01T10:00:00Z', files: { 'a.go': 'package a\n' }, tag: 'v2.0.0' },
    { date: '2024-02-02T10:00:00Z', files: { 'a.go': 'package a\n// 3\n' }, tag: 'v3.0.0' },
    { date: '2024-02-03T10:00:00Z', files: { 'a.go': 'package a\n// 3.1\n', 'go.mod': `module ${mod}/v3\n` }, tag: 'v3.1.0' },
  ]);
  const repo = await openGitRepository(gitdir);
  try {
    const majors = createModuleService({ repository: repo, codeRoot: mod, pins: createMemoryPins() });
    assert.deepEqual(await majors.list(mod), ['v2.0.0+incompatible']);
  } finally {
    await repo.close();
  }
});
