import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, open, readdir, rename, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { type RunningServer, startServer } from '../../routes/server.js';
import { parseServerConfig } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import { makeBareRepository, makeTempDir, standardHistory } from './fixtures.js';

/**
 * Repositories that cannot be read answer 500 with one generic line and an error log line naming
 * the project and the kind of damage, never a 404 (go would try the next GOPROXY entry and tell it
 * a private module's path) and never a body holding an object id or a path.
 */

const run = promisify(execFile);
const PREFIX = 'gitlab.example.com';
const NAMES = { healthy: 1, 'missing-blob': 2, 'bad-idx': 3, vanishing: 4 } as const;
type Name = keyof typeof NAMES;

let server: RunningServer;
let tmp: { dir: string; remove(): Promise<void> };
const lines: Array<{ level: string; fields: Record<string, unknown> }> = [];
const record =
  (level: string) =>
  (fields: unknown): void => {
    lines.push({ level, fields: fields as Record<string, unknown> });
  };
const logger: Logger = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
let missingBlob = '';

const gitdirOf = (name: Name): string => path.join(tmp.dir, 'repos', `group/${name}.git`);
const url = (name: Name, rest: string): string =>
  `${server.url}/api/v4/projects/${NAMES[name]}/packages/go/${PREFIX}/group/${name}/${rest}`;

before(async () => {
  tmp = await makeTempDir();
  for (const name of Object.keys(NAMES) as Name[]) {
    await makeBareRepository(gitdirOf(name), standardHistory(`${PREFIX}/group/${name}`));
  }
  // A blob of v1.0.0 lost (a partial copy, a disk error): everything else is intact.
  {
    const gitdir = gitdirOf('missing-blob');
    missingBlob = (await run('git', ['-C', gitdir, 'rev-parse', 'v1.0.0:hello.go'])).stdout.trim();
    await run('git', ['-C', gitdir, 'repack', '-a', '-d', '-q']);
    // Repack everything but that blob: pack-objects reads the list of objects to keep.
    const all = (await run('git', ['-C', gitdir, 'cat-file', '--batch-all-objects', '--batch-check=%(objectname)'])).stdout
      .trim()
      .split('\n')
      .filter((oid) => oid !== missingBlob);
    const packDir = path.join(gitdir, 'objects', 'pack');
    const staging = path.join(tmp.dir, 'staging');
    await mkdir(staging);
    await new Promise<void>((resolve, reject) => {
      const child = execFile('git', ['-C', gitdir, 'pack-objects', '-q', path.join(staging, 'pack')], (err) =>
        err ? reject(err) : resolve(),
      );
      child.stdin?.end(`${all.join('\n')}\n`);
    });
    for (const name of await readdir(packDir)) await unlink(path.join(packDir, name));
    for (const name of await readdir(staging)) await rename(path.join(staging, name), path.join(packDir, name));
    await assert.rejects(run('git', ['-C', gitdir, 'cat-file', '-e', missingBlob]));
  }
  // One bit of the pack index's name table flipped: its checksum no longer matches.
  {
    const gitdir = gitdirOf('bad-idx');
    await run('git', ['-C', gitdir, 'repack', '-a', '-d', '-q']);
    const packDir = path.join(gitdir, 'objects', 'pack');
    const idx = (await readdir(packDir)).find((n) => n.endsWith('.idx'))!;
    const handle = await open(path.join(packDir, idx), 'r+');
    const at = 8 + 256 * 4 + 3;
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, at);
    await handle.write(Buffer.from([byte[0]! ^ 0x10]), 0, 1, at);
    await handle.close();
  }
  const config = parseServerConfig(
    {
      server: { host: '127.0.0.1', port: 0 },
      modulePrefix: PREFIX,
      projects: (Object.keys(NAMES) as Name[]).map((name) => ({
        id: NAMES[name],
        path: `group/${name}`,
        repository: `repos/group/${name}.git`,
        visibility: 'public',
      })),
      users: [],
    },
    { file: 'broken-repository.test config', baseDir: tmp.dir },
  );
  server = await startServer(config, { logger });
});

after(async () => {
  await server?.close();
  await tmp?.remove();
});

async function assertBroken(res: Response, project: number, reason: string): Promise<void> {
  const body = await res.text();
  assert.equal(res.status, 500, body);
  assert.equal(body, '500 repository cannot be read\n');
  assert.doesNotMatch(body, /[0-9a-f]{12}/);
  assert.doesNotMatch(body, new RegExp(tmp.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  const logged = lines.filter((l) => l.level === 'error' && l.fields['project'] === project && l.fields['reason'] === reason);
  assert.ok(logged.length > 0, JSON.stringify(lines.filter((l) => l.level === 'error')));
  assert.doesNotMatch(JSON.stringify(lines), /[0-9a-f]{40}/);
  assert.doesNotMatch(JSON.stringify(lines), new RegExp(tmp.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
}

test('a blob a tree names but the repository lacks: the zip is a 500 with a generic reason, not a 404 with the object id', async () => {
  assert.equal((await fetch(url('missing-blob', '@v/v1.1.0.info'))).status, 200);
  await assertBroken(await fetch(url('missing-blob', '@v/v1.0.0.zip')), NAMES['missing-blob'], 'missing-object');
  // A version that truly does not exist is still a 404.
  assert.equal((await fetch(url('missing-blob', '@v/v9.9.9.info'))).status, 404);
});

test('a pack index whose checksum fails is a 500 for the project, never a different @latest', async () => {
  await assertBroken(await fetch(url('bad-idx', '@latest')), NAMES['bad-idx'], 'corrupt-index');
  await assertBroken(await fetch(url('bad-idx', '@v/list')), NAMES['bad-idx'], 'corrupt-index');
});

test('a repository deleted while served: list is a 500, not 200 with an empty body', async () => {
  assert.equal((await fetch(url('vanishing', '@v/list'))).status, 200);
  await rm(gitdirOf('vanishing'), { recursive: true, force: true });
  await assertBroken(await fetch(url('vanishing', '@v/list')), NAMES.vanishing, 'vanished');
});

test('the other projects are untouched', async () => {
  const res = await fetch(url('healthy', '@v/list'));
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'v1.0.0\nv1.1.0\nv1.2.0-rc.1\n');
  assert.equal((await fetch(url('healthy', '@v/v1.0.0.zip'))).status, 200);
});
