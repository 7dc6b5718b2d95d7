import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { promisify } from 'node:util';
import { InternalError, NotFoundError } from '../../../src/errors.js';
import { openGitRepository } from '../../../src/git/open-repository.js';
import type { GitRepository } from '../../../src/git/repository.js';
import type { Logger } from '../../../src/logger.js';
import { createModuleService, type ModuleService } from '../../../src/service/module-service.js';
import { createMemoryPins } from '../../../src/service/version-pins.js';
import { commitTree, makeBareRepository, makeTempDir, standardHistory } from '../../http/fixtures.js';

const run = promisify(execFile);

const MODULE = 'gitlab.example.com/group/big';

interface Line {
  level: keyof Logger;
  fields: unknown;
  message: string | undefined;
}

function recordingLogger(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: keyof Logger) => (fields: unknown, message?: string) => lines.push({ level, fields, message });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

let temp: { dir: string; remove(): Promise<void> };
let gitdir: string;

before(async () => {
  temp = await makeTempDir();
  gitdir = path.join(temp.dir, 'big.git');
  // Incompressible files, so the zip is many chunks long and a reader can leave half-way.
  const files: Record<string, string> = { 'go.mod': `module ${MODULE}\n\ngo 1.19\n` };
  for (let i = 0; i < 200; i++) files[`f${i}.go`] = `package big\n// ${randomBytes(6000).toString('base64')}\n`;
  await makeBareRepository(gitdir, [{ date: '2024-01-10T10:00:00Z', files, tag: 'v1.0.0' }]);
});

after(() => temp.remove());

async function openService(logger: Logger): Promise<{ repository: GitRepository; service: ModuleService }> {
  const repository = await openGitRepository(gitdir);
  return { repository, service: createModuleService({ repository, codeRoot: MODULE, pins: createMemoryPins(), logger }) };
}

test('a client that leaves mid-zip is not a warning or an error in the log', async () => {
  const { logger, lines } = recordingLogger();
  const { repository, service } = await openService(logger);
  try {
    const controller = new AbortController();
    const stream = (await service.zip(MODULE, 'v1.0.0')).open(controller.signal);
    const [first] = (await once(stream, 'data')) as [Buffer];
    assert.ok(first.length > 0);
    controller.abort();
    if (!stream.destroyed) await once(stream, 'close');
    for (let i = 0; i < 5; i++) await nextTurn();
    assert.deepEqual(
      lines.filter((l) => l.level === 'warn' || l.level === 'error'),
      [],
    );
  } finally {
    await repository.close();
  }
});

test('a zip that fails while streaming is one error line, with kind, code and operation only', async () => {
  const { logger, lines } = recordingLogger();
  const { repository, service } = await openService(logger);
  const zip = await service.zip(MODULE, 'v1.0.0');
  // The plan is made; closing the repository makes every later object read fail.
  await repository.close();
  const stream = zip.open();
  stream.resume();
  const [err] = (await once(stream, 'error').catch((e: unknown) => [e])) as [unknown];
  assert.ok(err instanceof InternalError);
  for (let i = 0; i < 5; i++) await nextTurn();
  const failures = lines.filter((l) => l.level === 'warn' || l.level === 'error');
  assert.equal(failures.length, 1, JSON.stringify(lines));
  // The operation is where the error was raised: the closed object store, under the zip.
  assert.deepEqual(failures[0]!.fields, { op: 'git.objects', kind: 'internal', code: 'InternalError' });
  assert.doesNotMatch(JSON.stringify(failures), new RegExp(temp.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
});

test('errors leave the service in the family, with the protocol operation set', async () => {
  const { service, repository } = await openService(recordingLogger().logger);
  try {
    await assert.rejects(service.info(MODULE, 'v9.9.9'), (err: unknown) => err instanceof NotFoundError && err.op === undefined);
    // Go's own reason for a malformed module path, as direct mode prints it.
    await assert.rejects(service.list('gitlab.example.com/group/big/../x'), (err: unknown) => {
      assert.ok(err instanceof NotFoundError);
      assert.equal(err.op, 'module-path');
      assert.match(err.message, /^malformed module path "gitlab\.example\.com\/group\/big\/\.\.\/x": /);
      return true;
    });
  } finally {
    await repository.close();
  }
});

test("a pseudo-version whose base tag is not an ancestor of its commit is refused with Go's reason", async () => {
  const gitdir = path.join(temp.dir, 'side.git');
  const module = 'gitlab.example.com/group/side';
  await makeBareRepository(gitdir, standardHistory(module));
  // A second root commit on a side branch: v1.0.0 (on main) is not among its ancestors.
  const side = await commitTree(gitdir, { treeOf: 'v1.0.0', parents: [], date: '2024-06-01T00:00:00Z' });
  await run('git', ['-C', gitdir, 'update-ref', 'refs/heads/side', side]);
  const repository = await openGitRepository(gitdir);
  try {
    const service = createModuleService({ repository, codeRoot: module, pins: createMemoryPins() });
    const short = side.slice(0, 12);
    await assert.rejects(service.info(module, `v1.0.1-0.20240601000000-${short}`), (err: unknown) => {
      assert.ok(err instanceof NotFoundError);
      assert.equal(
        err.message,
        `${module}@v1.0.1-0.20240601000000-${short}: invalid pseudo-version: revision ${short} is not a descendent of preceding tag (v1.0.0)`,
      );
      return true;
    });
    // Its only valid name has no base tag.
    assert.equal((await service.info(module, short)).Version, `v0.0.0-20240601000000-${short}`);
  } finally {
    await repository.close();
  }
});
