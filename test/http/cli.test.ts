import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseServerConfig } from '../../src/config.js';
import { tokenSha256 } from '../../src/config-stores.js';
import { makeBareRepository, makeTempDir, standardHistory } from './fixtures.js';

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

  test('--scopes takes a comma-separated list', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'token', 'create', '--username', 'ci', '--scopes', 'read_api, api']);
    assert.match(stdout, /scopes: \[read_api, api\]/);
    assert.match(stdout, /- username: "ci"/);
  });

  test('refuses a misspelt scope', async () => {
    await assert.rejects(
      run(process.execPath, [CLI, 'token', 'create', '--username', 'alice', '--scopes', 'read-api']),
      (err: { code?: number; stderr?: string }) => err.code === 2 && /--scopes/.test(err.stderr ?? ''),
    );
  });

  test('--username is required: no token is made for a default user', async () => {
    for (const args of [[], ['--username', ''], ['--project', '42']]) {
      await assert.rejects(
        run(process.execPath, [CLI, 'token', 'create', ...args]),
        (err: { code?: number; stdout?: string; stderr?: string }) =>
          err.code === 2 && /token create needs --username NAME/.test(err.stderr ?? '') && !/glpat-/.test(err.stdout ?? ''),
        args.join(' '),
      );
    }
  });

  test('--expires must name a day that exists, checked at once', async () => {
    for (const expires of ['2027-13-45', '2027-02-29', '2027-04-31', '2027-00-10', '2027-1-1', 'tomorrow']) {
      await assert.rejects(
        run(process.execPath, [CLI, 'token', 'create', '--username', 'alice', '--expires', expires]),
        (err: { code?: number; stdout?: string; stderr?: string }) =>
          err.code === 2 &&
          err.stderr?.includes(`--expires must be a real date such as 2027-01-01 (YYYY-MM-DD), got "${expires}"`) === true &&
          !/glpat-/.test(err.stdout ?? ''),
        expires,
      );
    }
    const { stdout } = await run(process.execPath, [CLI, 'token', 'create', '--username', 'alice', '--expires', '2028-02-29']);
    assert.match(stdout, /expiresAt: 2028-02-29/);
  });
});

describe('gitlab-go-proxy serve --config', () => {
  let tmp: { dir: string; remove(): Promise<void> };

  before(async () => {
    tmp = await makeTempDir('gitlab-go-proxy-cli-');
  });

  after(() => tmp.remove());

  test('a TLS file that cannot be read is reported with the config file and the key', async () => {
    const configFile = path.join(tmp.dir, 'tls.yaml');
    await writeFile(
      configFile,
      'server: { port: 0, tls: { cert: missing-cert.pem, key: missing-key.pem } }\nmodulePrefix: gitlab.example.com\n',
    );
    await assert.rejects(
      run(process.execPath, [CLI, 'serve', '--config', configFile, '--log-level', 'silent']),
      (err: { code?: number; stderr?: string }) => {
        assert.equal(err.code, 1);
        assert.equal(err.stderr, `gitlab-go-proxy: ${configFile}: server.tls.cert: cannot read the file (ENOENT)\n`);
        return true;
      },
    );
  });
});

describe('gitlab-go-proxy warm', () => {
  let tmp: { dir: string; remove(): Promise<void> };

  before(async () => {
    tmp = await makeTempDir('gitlab-go-proxy-cli-');
    await makeBareRepository(path.join(tmp.dir, 'repo.git'), standardHistory('gitlab.example.com/group/project'));
  });

  after(() => tmp.remove());

  async function writeConfig(name: string, cacheDir: string): Promise<string> {
    const file = path.join(tmp.dir, name);
    await writeFile(
      file,
      [
        'modulePrefix: gitlab.example.com',
        'projects:',
        '  - { id: 1, path: group/project, repository: repo.git, visibility: public }',
        `cache: { dir: ${cacheDir} }`,
        '',
      ].join('\n'),
    );
    return file;
  }

  test('builds every listed version into cache.dir', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'warm', '--config', await writeConfig('warm.yaml', 'cache')]);
    assert.match(stdout, /^project 1: 3 versions, 3 cached, 0 refused by Go's rules$/m);
  });

  test('failures while warming are logged, as the server logs them (kind, code, errno; no path)', async () => {
    // Every zips/<xx> folder the cache could write into is a dangling symlink, so each zip write fails.
    const zips = path.join(tmp.dir, 'broken-cache', 'zips');
    await mkdir(zips, { recursive: true });
    for (let i = 0; i < 256; i++) await symlink(path.join(tmp.dir, 'nowhere'), path.join(zips, i.toString(16).padStart(2, '0')));
    const file = await writeConfig('broken.yaml', 'broken-cache');
    await assert.rejects(
      run(process.execPath, [CLI, 'warm', '--config', file, '--log-level', 'error']),
      (err: { code?: number; stderr?: string }) => {
        assert.equal(err.code, 1);
        assert.match(err.stderr ?? '', / ERROR zip cache write failed \{"op":"zip-cache",[^\n]*"errno":"ENOENT"/);
        assert.match(err.stderr ?? '', /^project 1: cannot warm/m);
        assert.ok(!(err.stderr ?? '').includes(tmp.dir), 'no path in the output');
        return true;
      },
    );
  });

  test('--log-level is checked', async () => {
    await assert.rejects(
      run(process.execPath, [CLI, 'warm', '--config', await writeConfig('warm.yaml', 'cache'), '--log-level', 'loud']),
      (err: { code?: number; stderr?: string }) => err.code === 2 && /--log-level must be one of/.test(err.stderr ?? ''),
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
