import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseServerConfig } from '../../src/config.js';
import { tokenSha256 } from '../../src/config-stores.js';
import { makeTempDir } from './fixtures.js';

/** The `gitlab-go-proxy` command as `npm start` and users run it: a real process. */

// dist/test/http → dist/src/cli/main.js
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const run = promisify(execFile);

describe('gitlab-go-proxy token create', () => {
  test('prints a new token and a config snippet holding only its digest', async () => {
    const { stdout } = await run(process.execPath, [
      CLI,
      'token',
      'create',
      '--username',
      'alice',
      '--project',
      '42',
      '--project',
      'group/sub/project',
      '--expires',
      '2027-01-01',
    ]);
    const token = /\b(glpat-[0-9A-Za-z]{20})\b/.exec(stdout)?.[1];
    assert.ok(token, stdout);
    const snippet = stdout.slice(stdout.indexOf('users:'), stdout.indexOf('Client side'));
    assert.ok(!snippet.includes(token), 'the snippet must not hold the token');
    const { parse } = await import('yaml');
    const config = parseServerConfig(
      {
        modulePrefix: 'gitlab.example.com',
        projects: [{ id: 42, path: 'group/sub/project', repository: 'r.git', visibility: 'private' }],
        ...(parse(snippet) as object),
      },
      { file: 'snippet', baseDir: '/' },
    );
    assert.equal(config.users[0]?.tokens[0]?.sha256, tokenSha256(token));
    assert.deepEqual(config.users[0]?.tokens[0]?.scopes, ['read_api']);
    assert.match(stdout, new RegExp(`machine HOST:PORT login alice password ${token}`));
  });

  test('refuses a misspelt scope', async () => {
    await assert.rejects(
      run(process.execPath, [CLI, 'token', 'create', '--scopes', 'read-api']),
      (err: { code?: number; stderr?: string }) => err.code === 2 && /--scopes/.test(err.stderr ?? ''),
    );
  });
});

describe('gitlab-go-proxy serve without --config (the demo)', () => {
  let tmp: { dir: string; remove(): Promise<void> };
  let child: ChildProcess;
  let output = '';
  let url: string;

  before(async () => {
    tmp = await makeTempDir('gitlab-go-proxy-cli-');
    child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--log-level', 'warn'], {
      cwd: tmp.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed:\n${output}`)), 30_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match && output.includes('Stop with Ctrl-C')) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`exited ${code}:\n${output}`)));
    });
  });

  after(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await tmp.remove();
  });

  test('creates the demo once under ./.data/demo and prints how to try it', async () => {
    const token = (await readFile(path.join(tmp.dir, '.data', 'demo', 'token.txt'), 'utf8')).trim();
    assert.match(token, /^glpat-[0-9A-Za-z]{20}$/);
    const config = await readFile(path.join(tmp.dir, '.data', 'demo', 'config.yaml'), 'utf8');
    assert.ok(!config.includes(token) && config.includes(tokenSha256(token)));
    assert.match(output, /GOPROXY=http:\/\/127\.0\.0\.1:\d+\/api\/v4\/projects\/1\/packages\/go/);
    assert.match(output, /go get gitlab\.example\.com\/demo\/hello@latest/);
    assert.ok(output.includes(`curl -u demo:${token}`));
  });

  test('serves the public sample module without credentials', async () => {
    const res = await fetch(`${url}/api/v4/projects/1/packages/go/gitlab.example.com/demo/hello/@v/list`);
    assert.equal(await res.text(), 'v1.0.0\nv1.1.0\nv1.2.0-rc.1\n');
    const info = await fetch(`${url}/api/v4/projects/1/packages/go/gitlab.example.com/demo/hello/@v/v1.1.0.info`);
    assert.deepEqual(await info.json(), { Version: 'v1.1.0', Time: '2024-02-10T10:00:00Z' });
  });

  test('serves the private sample module with the printed token only', async () => {
    const token = (await readFile(path.join(tmp.dir, '.data', 'demo', 'token.txt'), 'utf8')).trim();
    const list = `${url}/api/v4/projects/2/packages/go/gitlab.example.com/demo/secret/@v/list`;
    assert.equal((await fetch(list)).status, 401);
    assert.equal((await fetch(list, { headers: { 'PRIVATE-TOKEN': 'glpat-wrong' } })).status, 404);
    const res = await fetch(list, { headers: { Authorization: `Basic ${Buffer.from(`demo:${token}`).toString('base64')}` } });
    assert.equal(res.status, 200);
  });

  test('SIGTERM shuts down cleanly', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });
});
