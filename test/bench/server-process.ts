/**
 * The real standalone server in a child process (`node dist/src/cli/main.js serve --config FILE`),
 * so that RSS and CPU read from /proc are the server's own, and a small HTTP client that times a
 * whole response.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/test/bench → project root. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CLI = join(PROJECT_ROOT, 'dist', 'src', 'cli', 'main.js');

export interface BenchServerOptions {
  /** Folder for the config file and the cache (wiped by the caller between cold runs). */
  dir: string;
  modulePrefix: string;
  projectPath: string;
  gitdir: string;
  /** With an on-disk cache under `dir/cache`. Defaults to true. */
  diskCache?: boolean;
  /** Serve these projects instead of the one above (ids from 1). */
  projects?: { path: string; gitdir: string }[];
  /** Extra `cache` settings (memoryBytes, openRepositories, idleSeconds). */
  cache?: Record<string, number>;
  /** `--log-level`. Defaults to warn. */
  logLevel?: string;
  /** The config's `monitoring` section (`{ metrics: false }` to measure nothing). */
  monitoring?: Record<string, unknown>;
  /**
   * Send the server's stderr (its log) to this file, as a deployment writing to a file or journald
   * would, instead of a pipe this process drains: then reading the log costs the load generator nothing.
   */
  stderrFile?: string;
}

export interface BenchServer {
  pid: number;
  origin: string;
  /** `<origin>/api/v4/projects/1/packages/go`. */
  goproxy: string;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export async function startBenchServer(options: BenchServerOptions): Promise<BenchServer> {
  await mkdir(options.dir, { recursive: true });
  const configFile = join(options.dir, 'config.json');
  const config = {
    server: { host: '127.0.0.1', port: 0 },
    modulePrefix: options.modulePrefix,
    projects: (options.projects ?? [{ path: options.projectPath, gitdir: options.gitdir }]).map((p, i) => ({
      id: i + 1,
      path: p.path,
      repository: p.gitdir,
      visibility: 'public',
    })),
    users: [],
    cache: { dir: options.diskCache === false ? false : join(options.dir, 'cache'), ...options.cache },
    ...(options.monitoring && { monitoring: options.monitoring }),
  };
  await writeFile(configFile, JSON.stringify(config, null, 2));
  const logFd = options.stderrFile ? openSync(options.stderrFile, 'w') : null;
  const child = spawn(process.execPath, [CLI, 'serve', '--config', configFile, '--log-level', options.logLevel ?? 'warn'], {
    cwd: options.dir,
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', logFd ?? 'pipe'],
  });
  if (logFd !== null) closeSync(logFd);
  children.add(child);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  exited.then(
    () => children.delete(child),
    () => undefined,
  );
  const output: string[] = [];
  const origin = await new Promise<string>((resolveOrigin, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${output.join('')}`)), 30_000);
    const onData = (d: Buffer): void => {
      output.push(d.toString());
      const match = /listening on (http:\/\/[^\s]+)/.exec(output.join(''));
      if (match) {
        clearTimeout(timer);
        resolveOrigin(match[1]!.replace(/\/$/, ''));
      }
    };
    child.stdout!.on('data', onData);
    // Until it listens only: a server logging every request would otherwise grow this without end.
    const onErr = (d: Buffer): void => {
      output.push(d.toString());
    };
    child.stderr?.on('data', onErr);
    child.stdout!.once('data', () => child.stderr?.off('data', onErr));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited ${code}: ${output.join('')}`));
    });
  });
  // Keep draining output so a chatty server never blocks on a full pipe.
  child.stdout!.resume();
  child.stderr?.resume();
  return {
    pid: child.pid!,
    origin,
    goproxy: `${origin}/api/v4/projects/1/packages/go`,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface Timed {
  status: number;
  bytes: number;
  /** Request sent → last byte, ms. */
  ms: number;
  /** Request sent → response headers, ms. */
  headersMs: number;
  body: Buffer | null;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** GET and time the whole response; keeps the body only when asked (zips are just counted). */
export function timedGet(url: string, keepBody = false): Promise<Timed> {
  return new Promise((resolveTimed, reject) => {
    const t0 = performance.now();
    const req = http.get(url, { agent }, (res) => {
      const headersMs = performance.now() - t0;
      let bytes = 0;
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => {
        bytes += d.length;
        if (keepBody) chunks.push(d);
      });
      res.on('end', () =>
        resolveTimed({
          status: res.statusCode ?? 0,
          bytes,
          ms: performance.now() - t0,
          headersMs,
          body: keepBody ? Buffer.concat(chunks) : null,
        }),
      );
      res.on('error', reject);
    });
    req.setTimeout(300_000, () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
  });
}
