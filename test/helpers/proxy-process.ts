/**
 * Starts the real standalone server (`node dist/src/cli/main.js serve --config FILE`) for end-to-end
 * tests: writes the YAML config (the contract of issue 2), waits for the URL it prints, keeps its
 * output for failure messages, stops it on teardown (and when the test process exits), and checks
 * afterwards that its logs never contain a token or a repository path.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/test/helpers → project root. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CLI_PATH = join(PROJECT_ROOT, 'dist', 'src', 'cli', 'main.js');

export interface ProxyProject {
  id: number;
  /** Full project path, e.g. `testorg/basic`; the module path is `<modulePrefix>/<path>`. */
  path: string;
  /** Absolute path of the bare repository. */
  repository: string;
  visibility: 'public' | 'internal' | 'private';
  /** The module path of the repository root (a vanity path). Defaults to `<modulePrefix>/<path>`. */
  modulePath?: string;
  /** Config `upstream` (src/mirror/upstream-options.ts), written as JSON (a YAML flow mapping). */
  upstream?: { url: string; username?: string; passwordEnv?: string; passwordFile?: string; refreshSeconds?: number };
}

export interface ProxyDeployToken {
  username: string;
  token: string;
  scopes: string[];
  projects?: Array<number | string>;
  groups?: string[];
}

export interface ProxyToken {
  /** The plain token; only its SHA-256 goes into the config. */
  token: string;
  scopes: string[];
  expiresAt?: string;
  revoked?: boolean;
}

export interface ProxyUser {
  username: string;
  projects: Array<number | string>;
  tokens: ProxyToken[];
}

export interface StartProxyOptions {
  /** Folder for the config file (and the cache, when `cache` is true). */
  dir: string;
  /** Defaults to `github.com`, so module paths equal the direct-mode paths of the fixtures. */
  modulePrefix?: string;
  projects: ProxyProject[];
  users?: ProxyUser[];
  tls?: { cert: string; key: string };
  /** Configure `cache.dir` under `dir`. Default false. */
  cache?: boolean;
  /** Milliseconds to wait for the URL. Default 30 s. */
  startTimeoutMs?: number;
  /** Config `groups`: numeric ids of groups. */
  groups?: Array<{ id: number; path: string }>;
  /** Config `deployTokens`. */
  deployTokens?: ProxyDeployToken[];
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

export interface ProxyServer {
  /** Origin the server printed, e.g. `https://127.0.0.1:40123`. */
  origin: string;
  port: number;
  /** `<origin>/api/v4/projects/<id>/packages/go`: the GOPROXY entry for one project. */
  goproxy(projectId: number | string): string;
  /** GET (or HEAD) a path or absolute URL; trusts the server's own certificate. */
  request(pathOrUrl: string, options?: { method?: 'GET' | 'HEAD'; headers?: Record<string, string> }): Promise<HttpResponse>;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Fails when any output line contains one of `secrets` (tokens, repository paths). */
  assertLogsClean(secrets?: string[]): void;
  stop(): Promise<void>;
  /** Plain tokens and repository paths from the config: what must never be logged. */
  readonly secrets: string[];
}

export function cliAvailable(): boolean {
  return existsSync(CLI_PATH);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

const running = new Set<ChildProcess>();
function killRunning(): void {
  for (const child of running) child.kill('SIGKILL');
}
process.once('exit', killRunning);
// The test runner cancels a file with a signal; take the servers down with us, then die of it.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killRunning();
    process.kill(process.pid, signal);
  });
}

export async function startProxy(options: StartProxyOptions): Promise<ProxyServer> {
  if (!cliAvailable()) {
    throw new Error(`the server CLI ${CLI_PATH} does not exist: build the project first (npx tsc -p tsconfig.json)`);
  }
  await mkdir(options.dir, { recursive: true });
  let lastError: Error | undefined;
  // First ask for port 0 (the server picks and prints it); if that is refused, pick one ourselves.
  for (const port of [0, await freePort(), await freePort()]) {
    try {
      return await startOnce(options, port);
    } catch (err) {
      lastError = err instanceof Error ? err : new Error(String(err));
    }
  }
  throw lastError ?? new Error('server did not start');
}

async function startOnce(options: StartProxyOptions, port: number): Promise<ProxyServer> {
  const configFile = join(options.dir, `config-${port}.yaml`);
  await writeFile(configFile, renderConfig(options, port));
  const child = spawn(process.execPath, [CLI_PATH, 'serve', '--config', configFile], {
    cwd: options.dir,
    // Debug, so that every refusal and failure is logged and checked for secrets by assertLogsClean.
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'debug', LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const chunks: string[] = [];
  const errChunks: string[] = [];
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((done) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      running.delete(child);
      done();
    });
  });

  const origin = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server printed no URL within ${options.startTimeoutMs ?? 30_000} ms; output:\n${chunks.join('')}`));
    }, options.startTimeoutMs ?? 30_000);
    let settled = false;
    const onData = (d: Buffer) => {
      chunks.push(d.toString());
      if (settled) return;
      const match = /\bhttps?:\/\/[^\s"'<>]+/.exec(chunks.join(''));
      if (!match) return;
      let url: URL;
      try {
        url = new URL(match[0].replace(/[.,;:)\]]+$/, ''));
      } catch {
        return;
      }
      settled = true;
      clearTimeout(timer);
      if (url.port === '0' || url.port === '') {
        child.kill('SIGKILL');
        reject(new Error(`server printed an unusable URL ${url.href}`));
        return;
      }
      const host = url.hostname === '0.0.0.0' || url.hostname === 'localhost' ? '127.0.0.1' : url.hostname;
      resolveUrl(`${url.protocol}//${host}:${url.port}`);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => errChunks.push(d.toString()));
    child.once('exit', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`server exited (${exited?.code ?? exited?.signal}) before printing a URL; output:\n${chunks.join('')}`));
    });
  });

  const ca = options.tls ? await readFile(options.tls.cert) : undefined;
  const secrets = [
    ...(options.users ?? []).flatMap((u) => u.tokens.flatMap((t) => [t.token, Buffer.from(`${u.username}:${t.token}`).toString('base64')])),
    ...options.projects.map((p) => p.repository),
    ...(options.deployTokens ?? []).flatMap((t) => [t.token, Buffer.from(`${t.username}:${t.token}`).toString('base64')]),
  ];

  const server: ProxyServer = {
    origin,
    port: Number(new URL(origin).port),
    secrets,
    goproxy: (projectId) => `${origin}/api/v4/projects/${projectId}/packages/go`,
    request: (pathOrUrl, requestOptions = {}) =>
      httpRequest(pathOrUrl.startsWith('http') ? pathOrUrl : origin + pathOrUrl, {
        method: requestOptions.method ?? 'GET',
        headers: requestOptions.headers ?? {},
        ca,
      }),
    output: () => chunks.join(''),
    assertLogsClean(extra = []) {
      const leaks: string[] = [];
      const lines = chunks.join('').split('\n');
      for (const secret of [...secrets, ...extra]) {
        if (!secret) continue;
        for (const line of lines) {
          if (line.includes(secret)) leaks.push(`${describeSecret(secret, options)} appears in: ${line.replaceAll(secret, '<SECRET>')}`);
        }
      }
      if (leaks.length > 0) throw new Error(`server output leaks secrets:\n${leaks.join('\n')}`);
      // Every log line is one JSON object (the serve command's default format), with a level and a message.
      // The last line may still be on its way (a pipe can split a write); it has no newline yet.
      for (const line of errChunks.join('').split('\n').slice(0, -1)) {
        if (line === '') continue;
        let entry: { level?: unknown; msg?: unknown };
        try {
          entry = JSON.parse(line) as { level?: unknown; msg?: unknown };
        } catch {
          throw new Error(`a log line that is not JSON: ${line}`);
        }
        if (typeof entry.level !== 'string' || typeof entry.msg !== 'string') throw new Error(`a log line without level or msg: ${line}`);
      }
    },
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exitPromise;
      clearTimeout(timer);
    },
  };
  return server;
}

function describeSecret(secret: string, options: StartProxyOptions): string {
  const project = options.projects.find((p) => p.repository === secret);
  return project ? `repository path of project ${project.id}` : 'a token (plain or in a Basic header)';
}

function renderConfig(options: StartProxyOptions, port: number): string {
  const q = (s: string) => JSON.stringify(s); // JSON strings are valid YAML double-quoted scalars
  const lines: string[] = ['server:', '  host: 127.0.0.1', `  port: ${port}`];
  if (options.tls) lines.push('  tls:', `    cert: ${q(options.tls.cert)}`, `    key: ${q(options.tls.key)}`);
  lines.push(`modulePrefix: ${q(options.modulePrefix ?? 'github.com')}`, 'projects:');
  for (const p of options.projects) {
    const modulePath = p.modulePath === undefined ? '' : `, modulePath: ${q(p.modulePath)}`;
    const upstream = p.upstream === undefined ? '' : `, upstream: ${JSON.stringify(p.upstream)}`;
    lines.push(
      `  - { id: ${p.id}, path: ${q(p.path)}, repository: ${q(p.repository)}, visibility: ${p.visibility}${modulePath}${upstream} }`,
    );
  }
  if (options.groups) {
    lines.push('groups:', ...options.groups.map((g) => `  - { id: ${g.id}, path: ${q(g.path)} }`));
  }
  if (options.deployTokens) {
    lines.push('deployTokens:');
    for (const t of options.deployTokens) {
      const projects = (t.projects ?? []).map((x) => (typeof x === 'number' ? String(x) : q(x))).join(', ');
      const groups = (t.groups ?? []).map(q).join(', ');
      lines.push(
        `  - { username: ${q(t.username)}, sha256: ${q(sha256Hex(t.token))}, scopes: [${t.scopes.join(', ')}], projects: [${projects}], groups: [${groups}] }`,
      );
    }
  }
  if (options.users && options.users.length > 0) {
    lines.push('users:');
    for (const u of options.users) {
      lines.push(`  - username: ${q(u.username)}`);
      lines.push(`    projects: [${u.projects.map((x) => (typeof x === 'number' ? String(x) : q(x))).join(', ')}]`);
      lines.push('    tokens:');
      for (const t of u.tokens) {
        const extra = [
          t.expiresAt !== undefined ? `, expiresAt: ${q(t.expiresAt)}` : '',
          t.revoked !== undefined ? `, revoked: ${t.revoked}` : '',
        ].join('');
        lines.push(`      - { sha256: ${q(sha256Hex(t.token))}, scopes: [${t.scopes.join(', ')}]${extra} }`);
      }
    }
  } else {
    lines.push('users: []');
  }
  // Without a cache the server's default (a .cache folder beside the config) is turned off explicitly.
  lines.push('cache:', options.cache ? `  dir: ${q(join(options.dir, 'cache'))}` : '  dir: false');
  return lines.join('\n') + '\n';
}

/** A small GET/HEAD client that can trust a self-signed certificate (global fetch cannot). */
export function httpRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; ca?: Buffer | undefined } = {},
): Promise<HttpResponse> {
  return new Promise((resolveResponse, reject) => {
    const target = new URL(url);
    const lib = target.protocol === 'https:' ? https : http;
    const req = lib.request(
      target,
      { method: options.method ?? 'GET', headers: options.headers ?? {}, ...(options.ca ? { ca: options.ca } : {}) },
      (res) => {
        const body: Buffer[] = [];
        res.on('data', (d: Buffer) => body.push(d));
        res.on('end', () => {
          const buf = Buffer.concat(body);
          resolveResponse({ status: res.statusCode ?? 0, headers: res.headers, body: buf, text: buf.toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

/** A throwaway plain-HTTP server answering every request with `status`; records requests. */
export interface StubServer {
  url: string;
  requests: Array<{ url: string; authorization: string | undefined }>;
  close(): Promise<void>;
}

export function startStubServer(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<StubServer> {
  return new Promise((resolveStub) => {
    const requests: StubServer['requests'] = [];
    const srv = http.createServer((req, res) => {
      requests.push({ url: req.url ?? '', authorization: req.headers.authorization });
      handler(req, res);
    });
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      resolveStub({
        url: `http://127.0.0.1:${port}`,
        requests,
        close: () =>
          new Promise<void>((done) => {
            srv.closeAllConnections();
            srv.close(() => done());
          }),
      });
    });
  });
}
