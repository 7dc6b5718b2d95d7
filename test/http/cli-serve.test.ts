import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tokenSha256 } from '../../src/config-stores.js';
import { makeBareRepository, makeTempDir, standardHistory } from './fixtures.js';

/** `serve` as an organization runs it: the default disk cache, SIGHUP reloads, and `check`. */

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const run = promisify(execFile);
const PREFIX = 'gitlab.example.com';
const OLD_TOKEN = 'glpat-oldTokenOfAlice000000';
const NEW_TOKEN = 'glpat-newTokenOfAlice000000';

interface Served {
  child: ChildProcess;
  url: string;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Resolves when the output matches, or fails after 10 s. */
  waitFor(pattern: RegExp): Promise<void>;
  stop(): Promise<void>;
}

async function serve(configFile: string, cwd: string): Promise<Served> {
  const child = spawn(process.execPath, [CLI, 'serve', '--config', configFile, '--port', '0', '--log-level', 'info'], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    text += chunk.toString();
    for (const wake of waiters) wake();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const waitFor = (pattern: RegExp): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${pattern} in:\n${text}`)), 10_000);
      const wake = (): void => {
        if (!pattern.test(text)) return;
        clearTimeout(timer);
        waiters.delete(wake);
        resolve();
      };
      waiters.add(wake);
      wake();
    });
  await waitFor(/listening on http:\/\/\S+[\s\S]*(disk cache in|no disk cache)/);
  const url = /listening on (http:\/\/\S+)/.exec(text)![1]!;
  return {
    child,
    url,
    output: () => text,
    waitFor,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

function get(url: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = token ? { 'PRIVATE-TOKEN': token } : {};
    http
      .get(url, { headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

let tmp: { dir: string; remove(): Promise<void> };
const running: Served[] = [];

before(async () => {
  tmp = await makeTempDir('gitlab-go-proxy-serve-');
  await makeBareRepository(path.join(tmp.dir, 'one.git'), standardHistory(`${PREFIX}/group/one`));
  await makeBareRepository(path.join(tmp.dir, 'two.git'), standardHistory(`${PREFIX}/group/two`));
});

after(async () => {
  await Promise.all(running.map((s) => s.stop()));
  await tmp.remove();
});

interface ConfigShape {
  projects: { id: number; name: string; visibility: string }[];
  tokens: string[];
  extra?: string[];
}

async function writeConfig(file: string, { projects, tokens, extra = [] }: ConfigShape): Promise<void> {
  const lines = [
    `modulePrefix: ${PREFIX}`,
    'server: { port: 0 }',
    'projects:',
    ...projects.map((p) => `  - { id: ${p.id}, path: group/${p.name}, repository: ${p.name}.git, visibility: ${p.visibility} }`),
    'users:',
    '  - username: alice',
    `    projects: [${projects.map((p) => p.id).join(', ')}]`,
    tokens.length === 0 ? '    tokens: []' : '    tokens:',
    ...tokens.map((t) => `      - { sha256: "${tokenSha256(t)}", scopes: [read_api] }`),
    ...extra,
    '',
  ];
  await writeFile(file, lines.join('\n'));
}

const listUrl = (s: Served, id: number, name: string): string =>
  `${s.url}/api/v4/projects/${id}/packages/go/${PREFIX}/group/${name}/@v/list`;

describe('gitlab-go-proxy serve: the disk cache by default', () => {
  test('a config without cache.dir gets .cache beside it, says so at startup, and keeps zips and pins there', async () => {
    const dir = path.join(tmp.dir, 'default-cache');
    await run('mkdir', ['-p', dir]);
    await run('ln', ['-s', path.join(tmp.dir, 'one.git'), path.join(dir, 'one.git')]);
    const file = path.join(dir, 'config.yaml');
    await writeConfig(file, { projects: [{ id: 1, name: 'one', visibility: 'public' }], tokens: [] });
    const server = await serve(file, tmp.dir);
    running.push(server);
    assert.match(server.output(), /disk cache in default-cache\/\.cache \(cache\.dir\)/);
    const zip = await get(`${server.url}/api/v4/projects/1/packages/go/${PREFIX}/group/one/@v/v1.0.0.zip`);
    assert.equal(zip.status, 200);
    await server.stop();
    const cache = path.join(dir, '.cache');
    assert.equal((await readdir(path.join(cache, 'pins'))).length, 1);
    assert.equal((await readdir(path.join(cache, 'zips'))).length, 1);
  });

  test('cache.dir: false turns it off, and says so', async () => {
    const dir = path.join(tmp.dir, 'no-cache');
    await run('mkdir', ['-p', dir]);
    await run('ln', ['-s', path.join(tmp.dir, 'one.git'), path.join(dir, 'one.git')]);
    const file = path.join(dir, 'config.yaml');
    await writeConfig(file, { projects: [{ id: 1, name: 'one', visibility: 'public' }], tokens: [], extra: ['cache: { dir: false }'] });
    const server = await serve(file, dir);
    running.push(server);
    assert.match(server.output(), /no disk cache \(cache\.dir: false\)/);
    assert.equal((await get(`${server.url}/api/v4/projects/1/packages/go/${PREFIX}/group/one/@v/v1.0.0.zip`)).status, 200);
    await server.stop();
    assert.equal(existsSync(path.join(dir, '.cache')), false);
  });
});

describe('gitlab-go-proxy serve: SIGHUP reloads the config', () => {
  let server: Served;
  let file: string;

  before(async () => {
    file = path.join(tmp.dir, 'reload.yaml');
    await writeConfig(file, {
      projects: [{ id: 1, name: 'one', visibility: 'private' }],
      tokens: [OLD_TOKEN],
      extra: ['cache: { dir: false }'],
    });
    server = await serve(file, tmp.dir);
    running.push(server);
  });

  after(() => server.stop());

  test('a new token works, a removed one stops at once, a new project appears and a removed one answers 404', async () => {
    assert.equal((await get(listUrl(server, 1, 'one'), OLD_TOKEN)).status, 200);
    assert.equal((await get(listUrl(server, 1, 'one'), NEW_TOKEN)).status, 404);
    assert.equal((await get(listUrl(server, 2, 'two'), OLD_TOKEN)).status, 404);

    await writeConfig(file, {
      projects: [{ id: 2, name: 'two', visibility: 'private' }],
      tokens: [NEW_TOKEN],
      extra: ['cache: { dir: false }'],
    });
    const reloads = (server.output().match(/config reloaded/g) ?? []).length;
    server.child.kill('SIGHUP');
    await server.waitFor(new RegExp(`(config reloaded[\\s\\S]*){${reloads + 1}}`));

    assert.equal((await get(listUrl(server, 2, 'two'), NEW_TOKEN)).body, 'v1.0.0\nv1.1.0\nv1.2.0-rc.1\n');
    assert.equal((await get(listUrl(server, 2, 'two'), OLD_TOKEN)).status, 404);
    assert.equal((await get(listUrl(server, 1, 'one'), NEW_TOKEN)).status, 404);
    assert.equal((await get(listUrl(server, 1, 'one'))).status, 401);
  });

  test('a bad config is refused with the key named, and the running one keeps serving', async () => {
    const before = await get(listUrl(server, 2, 'two'), NEW_TOKEN);
    assert.equal(before.status, 200);
    await writeFile(file, `${await import('node:fs/promises').then((fs) => fs.readFile(file, 'utf8'))}colour: blue\n`);
    server.child.kill('SIGHUP');
    await server.waitFor(/config refused, the running one keeps serving: .*reload\.yaml: Unrecognized key: \\?"colour\\?"/);
    assert.deepEqual(await get(listUrl(server, 2, 'two'), NEW_TOKEN), before);
  });

  test('a change that takes a restart is refused, naming the key', async () => {
    await writeConfig(file, {
      projects: [{ id: 2, name: 'two', visibility: 'private' }],
      tokens: [NEW_TOKEN],
      extra: ['cache: { dir: false, memoryBytes: 1024 }'],
    });
    server.child.kill('SIGHUP');
    await server.waitFor(/config refused, the running one keeps serving: .*reload\.yaml: cache: changed; a change here takes a restart/);
    assert.equal((await get(listUrl(server, 2, 'two'), NEW_TOKEN)).status, 200);
    assert.doesNotMatch(server.output(), new RegExp(NEW_TOKEN));
  });

  test('a download in flight survives a reload that removes its project', async () => {
    await writeConfig(file, {
      projects: [{ id: 2, name: 'two', visibility: 'private' }],
      tokens: [NEW_TOKEN],
      extra: ['cache: { dir: false }'],
    });
    server.child.kill('SIGHUP');
    await server.waitFor(/config reloaded[\s\S]*config refused[\s\S]*config refused[\s\S]*config reloaded/);
    const zipUrl = `${server.url}/api/v4/projects/2/packages/go/${PREFIX}/group/two/@v/v1.1.0.zip`;
    const whole = await new Promise<Buffer>((resolve, reject) => {
      http
        .get(zipUrl, { headers: { 'PRIVATE-TOKEN': NEW_TOKEN } }, (res) => {
          assert.equal(res.statusCode, 200);
          const chunks: Buffer[] = [];
          res.pause();
          // The answer has started; now the project goes away, then the rest is read.
          void (async () => {
            await writeConfig(file, {
              projects: [{ id: 1, name: 'one', visibility: 'private' }],
              tokens: [NEW_TOKEN],
              extra: ['cache: { dir: false }'],
            });
            server.child.kill('SIGHUP');
            await server.waitFor(/config reloaded[\s\S]*config refused[\s\S]*config refused[\s\S]*config reloaded[\s\S]*config reloaded/);
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve(Buffer.concat(chunks)));
            res.on('error', reject);
            res.resume();
          })();
        })
        .on('error', reject);
    });
    // A whole zip: it ends with the end-of-central-directory record.
    assert.equal(whole.readUInt32LE(whole.length - 22), 0x06054b50);
    assert.equal((await get(zipUrl, NEW_TOKEN)).status, 404);
  });
});

describe('gitlab-go-proxy check', () => {
  test("lists each project's modules and versions, exit 0", async () => {
    const file = path.join(tmp.dir, 'check-ok.yaml');
    await writeConfig(file, {
      projects: [
        { id: 1, name: 'one', visibility: 'public' },
        { id: 2, name: 'two', visibility: 'private' },
      ],
      tokens: [OLD_TOKEN],
    });
    const { stdout } = await run(process.execPath, [CLI, 'check', '--config', file]);
    assert.equal(
      stdout,
      [
        `ok: project 1 (group/one): 1 module: ${PREFIX}/group/one 3 versions`,
        `ok: project 2 (group/two): 1 module: ${PREFIX}/group/two 3 versions`,
        '2 projects, 0 problems',
        '',
      ].join('\n'),
    );
    assert.equal(existsSync(path.join(tmp.dir, '.cache')), false, 'check writes no cache');
  });

  test('one line per problem, exit 1: a repository that is not there, then a bad file', async () => {
    const file = path.join(tmp.dir, 'check-bad.yaml');
    await writeConfig(file, {
      projects: [
        { id: 1, name: 'one', visibility: 'public' },
        { id: 3, name: 'missing', visibility: 'public' },
      ],
      tokens: [],
    });
    await assert.rejects(run(process.execPath, [CLI, 'check', '--config', file]), (err: { code?: number; stdout?: string }) => {
      assert.equal(err.code, 1);
      assert.match(err.stdout ?? '', /^ok: project 1 \(group\/one\): 1 module/m);
      assert.match(err.stdout ?? '', /^problem: project 3 \(group\/missing\): repository not found$/m);
      assert.match(err.stdout ?? '', /^2 projects, 1 problem$/m);
      assert.doesNotMatch(err.stdout ?? '', new RegExp(tmp.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      return true;
    });
    await writeFile(
      file,
      `modulePrefix: ${PREFIX}\nprojects:\n  - { id: 1, path: group/one, repository: one.git, visibility: secret }\ncolour: blue\n`,
    );
    await assert.rejects(run(process.execPath, [CLI, 'check', '--config', file]), (err: { code?: number; stdout?: string }) => {
      assert.equal(err.code, 1);
      const lines = (err.stdout ?? '').trim().split('\n');
      assert.equal(lines.length, 2, err.stdout);
      assert.ok(lines.every((l) => l.startsWith(`problem: ${file}: `)));
      return true;
    });
  });
});
