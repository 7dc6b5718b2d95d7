import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { cleanGitEnv, type FixtureWorld, run, runCapture } from './fixtures.js';

// ------------------------------------------------------------------------------------------------
// availability

let goVersionCache: Promise<string | null> | undefined;

/**
 * The go command the end-to-end suites drive: `go` on PATH, or GO_E2E_BIN (the second toolchain
 * run of test/e2e/toolchains.test.ts sets it to Go 1.24's).
 */
export const GO_BIN = process.env.GO_E2E_BIN || 'go';

/** `go version` output, or null when there is no usable `go` on PATH. */
export function goVersion(): Promise<string | null> {
  goVersionCache ??= runCapture(GO_BIN, ['version'], { env: process.env, timeoutMs: 30_000 }).then(
    (r) => (r.code === 0 ? r.stdout.toString().trim() : null),
    () => null,
  );
  return goVersionCache;
}

import { IN_CI } from './ci.js';

export { IN_CI };

/** The minor version of GO_BIN (19 for go1.19.8), or 0 when unknown. */
export async function goMinor(): Promise<number> {
  const match = /\bgo1\.(\d+)/.exec((await goVersion()) ?? '');
  return match ? Number(match[1]) : 0;
}

/**
 * Why the e2e suites must be skipped, or null when they can run. In CI they never skip: a missing
 * `go` is then reported as a failure by the caller.
 */
export async function goSkipReason(): Promise<string | null> {
  if (await goVersion()) return null;
  if (IN_CI) throw new Error('the `go` command is required in CI (CI=true) but was not found on PATH');
  return 'the `go` command is not installed: end-to-end tests against the real go client skipped (they run in CI)';
}

// ------------------------------------------------------------------------------------------------
// bounded parallelism

/** At most `n` tasks at a time; the rest wait in order. */
export function createLimiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: Array<() => void> = [];
  const next = () => {
    if (active >= n) return;
    const start = queue.shift();
    if (start) {
      active++;
      start();
    }
  };
  return <T>(task: () => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      queue.push(() => {
        task()
          .then(resolve, reject)
          .finally(() => {
            active--;
            next();
          });
      });
      next();
    });
}

/** Shared by every go invocation in this process. */
const limitGo = createLimiter(2);

// ------------------------------------------------------------------------------------------------
// certificates and credentials

export interface CertPair {
  certFile: string;
  keyFile: string;
}

/** A self-signed certificate with subjectAltName `DNS:localhost,IP:127.0.0.1` (go-modules.md §2.3). */
export async function createSelfSignedCert(dir: string, extraNames: readonly string[] = []): Promise<CertPair> {
  await mkdir(dir, { recursive: true });
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  await run(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '30',
      '-subj',
      '/CN=localhost',
      '-addext',
      `subjectAltName=DNS:localhost,IP:127.0.0.1${extraNames.map((n) => `,DNS:${n}`).join('')}`,
    ],
    { env: process.env },
  );
  return { certFile, keyFile };
}

export interface NetrcEntry {
  host: string;
  port?: number | undefined;
  login: string;
  password: string;
}

/**
 * Writes a .netrc with BOTH `machine host` (what Go 1.19 matches: host without port) and
 * `machine host:port` (what Go ≥ 1.24 matches by URL prefix, golang/go#81253).
 */
export async function writeNetrc(file: string, entries: NetrcEntry[]): Promise<string> {
  const lines: string[] = [];
  for (const e of entries) {
    lines.push(`machine ${e.host} login ${e.login} password ${e.password}`);
    if (e.port !== undefined) lines.push(`machine ${e.host}:${e.port} login ${e.login} password ${e.password}`);
  }
  await writeFile(file, lines.join('\n') + '\n', { mode: 0o600 });
  return file;
}

// ------------------------------------------------------------------------------------------------
// running go

/** Where `go` fetches modules from. */
export interface GoMode {
  /** GOPROXY value: `direct`, a proxy URL, or a list such as `https://…,direct`. */
  goproxy: string;
  /** NETRC file; null or omitted → a path that does not exist (no credentials). */
  netrc?: string | null;
  /** Trust this certificate (SSL_CERT_FILE); omitted → the world's default certificate, if any. null → none. */
  certFile?: string | null;
  /** Extra variables (e.g. GOINSECURE) — applied last. */
  env?: Record<string, string>;
  /** Short name for messages. Defaults to `direct` or `proxy`. */
  label?: string;
}

export const DIRECT: GoMode = { goproxy: 'direct', label: 'direct' };

export interface GoRun {
  args: string[];
  mode: string;
  code: number | null;
  stdout: string;
  stderr: string;
  /** The GOMODCACHE this run used. */
  modcache: string;
}

/** What `go mod download -json M@q` reported, plus the files it left in the module cache. */
export interface DownloadResult {
  query: string;
  mode: string;
  ok: boolean;
  Version?: string;
  Sum?: string;
  GoModSum?: string;
  /** `Error` from the JSON, or stderr when go failed before printing JSON. */
  Error?: string;
  Info?: string;
  GoMod?: string;
  Zip?: string;
  /** Parsed `.info` file from the cache. */
  info?: { Version?: string; Time?: string };
  /** Exact `.mod` bytes from the cache. */
  mod?: Buffer;
  /** Zip entries from the cache, full names (with the `module@version/` prefix) → contents. */
  zip?: Map<string, Buffer>;
  stderr: string;
}

export interface VersionsResult {
  module: string;
  mode: string;
  ok: boolean;
  versions: string[];
  error?: string;
}

export interface GetResult {
  query: string;
  mode: string;
  ok: boolean;
  /** Version of the module required in the scratch go.mod afterwards. */
  required?: string;
  goMod: string;
  /** go.sum lines (sorted) for the requested module only. */
  goSum: string[];
  stderr: string;
}

export interface GoClientOptions {
  world: FixtureWorld;
  /** Default SSL_CERT_FILE for proxy runs (the test server's self-signed certificate). */
  certFile?: string;
}

export class GoClient {
  readonly world: FixtureWorld;
  readonly certFile: string | undefined;
  private counter = 0;
  private readonly gocache: string;
  private readonly gopath: string;
  private readonly emptyDir: string;

  constructor(options: GoClientOptions) {
    this.world = options.world;
    this.certFile = options.certFile;
    this.gocache = join(this.world.root, 'go', 'gocache');
    this.gopath = join(this.world.root, 'go', 'gopath');
    this.emptyDir = join(this.world.root, 'go', 'empty');
  }

  /** The full environment for one run: clean, isolated, with a fresh module cache. */
  env(mode: GoMode, modcache: string): NodeJS.ProcessEnv {
    const env = cleanGitEnv(this.world.homeDir); // drops GO*, GIT_*, NETRC, SSL_CERT_* of the caller
    env.GOPATH = this.gopath;
    env.GOMODCACHE = modcache;
    env.GOCACHE = this.gocache;
    env.GOFLAGS = '-modcacherw';
    env.GOTOOLCHAIN = 'local';
    env.GOENV = 'off';
    env.GOPROXY = mode.goproxy;
    env.GOSUMDB = 'off';
    env.GONOSUMDB = '*';
    env.GO111MODULE = 'on';
    env.NETRC = mode.netrc ?? join(this.world.root, 'go', 'no-such-netrc');
    const cert = mode.certFile === undefined ? this.certFile : mode.certFile;
    if (cert) env.SSL_CERT_FILE = cert;
    Object.assign(env, mode.env ?? {});
    return env;
  }

  private async freshCache(tag: string): Promise<string> {
    const dir = join(this.world.root, 'go', `mc-${++this.counter}-${tag.replace(/[^a-z0-9]+/gi, '_').slice(0, 40)}`);
    await mkdir(dir, { recursive: true });
    await mkdir(this.emptyDir, { recursive: true });
    return dir;
  }

  /** Runs `go <args>` in `cwd` (default: an empty folder outside any module). */
  async go(args: string[], mode: GoMode, options: { cwd?: string; modcache?: string } = {}): Promise<GoRun> {
    const modcache = options.modcache ?? (await this.freshCache(modeLabel(mode)));
    const env = this.env(mode, modcache);
    const result = await limitGo(() => runCapture(GO_BIN, args, { env, cwd: options.cwd ?? this.emptyDir, timeoutMs: 120_000 }));
    return {
      args,
      mode: modeLabel(mode),
      code: result.code,
      stdout: result.stdout.toString(),
      stderr: result.stderr.toString(),
      modcache,
    };
  }

  /** `go mod download -json <query>` with a fresh module cache. */
  async modDownload(query: string, mode: GoMode): Promise<DownloadResult> {
    const r = await this.go(['mod', 'download', '-json', query], mode);
    const result: DownloadResult = { query, mode: r.mode, ok: false, stderr: r.stderr };
    const text = r.stdout.trim();
    if (text.startsWith('{')) {
      const parsed = parseJsonObject(text);
      for (const key of ['Version', 'Sum', 'GoModSum', 'Error', 'Info', 'GoMod', 'Zip'] as const) {
        const v = parsed[key];
        if (typeof v === 'string') result[key] = v;
      }
    }
    if (r.code !== 0 && !result.Error) result.Error = r.stderr.trim() || `go exited with ${r.code}`;
    result.ok = r.code === 0 && !result.Error;
    if (result.Info && existsSync(result.Info)) {
      const info = parseJsonObject(await readFile(result.Info, 'utf8'));
      result.info = {
        ...(typeof info.Version === 'string' ? { Version: info.Version } : {}),
        ...(typeof info.Time === 'string' ? { Time: info.Time } : {}),
      };
    }
    if (result.GoMod && existsSync(result.GoMod)) result.mod = await readFile(result.GoMod);
    if (result.Zip && existsSync(result.Zip)) result.zip = readZip(await readFile(result.Zip));
    return result;
  }

  /** `go list -m -json -versions <module>` with a fresh module cache. */
  async listVersions(module: string, mode: GoMode): Promise<VersionsResult> {
    const r = await this.go(['list', '-m', '-json', '-versions', module], mode);
    const result: VersionsResult = { module, mode: r.mode, ok: r.code === 0, versions: [] };
    if (r.stdout.trim().startsWith('{')) {
      const parsed = parseJsonObject(r.stdout);
      if (Array.isArray(parsed.Versions)) result.versions = parsed.Versions.filter((v): v is string => typeof v === 'string');
      const err = parsed.Error;
      if (err && typeof err === 'object' && 'Err' in err && typeof err.Err === 'string') result.error = err.Err;
    }
    if (r.code !== 0) {
      result.ok = false;
      result.error = result.error ?? r.stderr.trim();
    }
    return result;
  }

  /** `go get <query>` in a new scratch module; reports the resulting requirement and go.sum lines. */
  async goGet(query: string, mode: GoMode): Promise<GetResult> {
    const dir = join(this.world.root, 'go', `scratch-${++this.counter}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'go.mod'), 'module example.com/scratch\n\ngo 1.19\n');
    const r = await this.go(['get', query], mode, { cwd: dir });
    const modulePath = query.split('@')[0]!;
    const goMod = await readFile(join(dir, 'go.mod'), 'utf8');
    const sumFile = join(dir, 'go.sum');
    const goSum = existsSync(sumFile)
      ? (await readFile(sumFile, 'utf8'))
          .split('\n')
          .filter((l) => l.startsWith(modulePath + ' '))
          .sort()
      : [];
    const escaped = modulePath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const required = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(\\S+)`, 'm').exec(goMod)?.[1];
    return {
      query,
      mode: r.mode,
      ok: r.code === 0,
      ...(required ? { required } : {}),
      goMod,
      goSum,
      stderr: r.stderr,
    };
  }

  /** The same download in direct mode and through `mode`, run side by side. */
  async compareWithDirect(query: string, mode: GoMode): Promise<{ direct: DownloadResult; proxy: DownloadResult }> {
    const [direct, proxy] = await Promise.all([this.modDownload(query, DIRECT), this.modDownload(query, mode)]);
    return { direct, proxy };
  }
}

function modeLabel(mode: GoMode): string {
  return mode.label ?? (mode.goproxy === 'direct' ? 'direct' : 'proxy');
}

function parseJsonObject(text: string): Record<string, unknown> {
  // `go mod download -json` prints one object per module; we always ask for one.
  const value: unknown = JSON.parse(text);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`not a JSON object: ${text}`);
  return value as Record<string, unknown>;
}

// ------------------------------------------------------------------------------------------------
// comparing

/**
 * Differences between a direct-mode and a proxy download, [] when they agree: Version, Sum,
 * GoModSum and the `.info` Time equal, or both failing.
 */
export function diffDownloads(direct: DownloadResult, proxy: DownloadResult): string[] {
  if (!direct.ok && !proxy.ok) {
    // Both failing is parity, unless the proxy failed for a reason of its own: a 5xx (direct-mode
    // errors must be 404/410) or a broken connection.
    const own = /: 5\d\d [A-Za-z]|connection refused|connection reset|EOF/.exec(proxy.Error ?? '');
    return own ? [`direct failed (${firstLine(direct.Error)}), proxy failed with its own error: ${oneLine(proxy.Error)}`] : [];
  }
  const diffs: string[] = [];
  if (direct.ok !== proxy.ok) {
    diffs.push(
      `direct ${direct.ok ? `succeeded (${direct.Version} ${direct.Sum})` : `failed: ${firstLine(direct.Error)}`}, ` +
        `proxy ${proxy.ok ? `succeeded (${proxy.Version} ${proxy.Sum})` : `failed: ${oneLine(proxy.Error)}`}`,
    );
    return diffs;
  }
  for (const key of ['Version', 'Sum', 'GoModSum'] as const) {
    if (direct[key] !== proxy[key]) diffs.push(`${key}: direct ${direct[key]} vs proxy ${proxy[key]}`);
  }
  if (direct.info?.Time !== proxy.info?.Time) diffs.push(`.info Time: direct ${direct.info?.Time} vs proxy ${proxy.info?.Time}`);
  if (direct.Sum !== proxy.Sum && direct.zip && proxy.zip) {
    const d = [...direct.zip.keys()].sort();
    const p = [...proxy.zip.keys()].sort();
    const onlyD = d.filter((n) => !proxy.zip!.has(n));
    const onlyP = p.filter((n) => !direct.zip!.has(n));
    const changed = d.filter((n) => proxy.zip!.has(n) && !proxy.zip!.get(n)!.equals(direct.zip!.get(n)!));
    diffs.push(
      `zip files only in direct: [${onlyD.join(', ')}]; only in proxy: [${onlyP.join(', ')}]; different bytes: [${changed.join(', ')}]`,
    );
  }
  return diffs;
}

function firstLine(s: string | undefined): string {
  return (s ?? '').split('\n')[0] ?? '';
}

function oneLine(s: string | undefined): string {
  return (s ?? '').replace(/\s*\n\s*/g, ' | ');
}

// ------------------------------------------------------------------------------------------------
// zip and h1:

/** Reads every entry of a zip (Store or Deflate) by its central directory: exact name → bytes. */
export function readZip(buf: Buffer): Map<string, Buffer> {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('zip: no end of central directory');
  let count = buf.readUInt16LE(eocd + 10);
  let offset = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || offset === 0xffffffff) {
    // zip64: the locator sits right before the EOCD record.
    const loc = eocd - 20;
    if (loc < 0 || buf.readUInt32LE(loc) !== 0x07064b50) throw new Error('zip: zip64 locator missing');
    const rec = Number(buf.readBigUInt64LE(loc + 8));
    count = Number(buf.readBigUInt64LE(rec + 32));
    offset = Number(buf.readBigUInt64LE(rec + 48));
  }
  const files = new Map<string, Buffer>();
  let p = offset;
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error('zip: bad central directory entry');
    const method = buf.readUInt16LE(p + 10);
    let compressed = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    let local = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    const extra = buf.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen);
    // zip64 extra field: [uncompressed][compressed][local offset], each present only if saturated.
    for (let e = 0; e + 4 <= extra.length; ) {
      const id = extra.readUInt16LE(e);
      const size = extra.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        if (buf.readUInt32LE(p + 24) === 0xffffffff) q += 8;
        if (compressed === 0xffffffff) {
          compressed = Number(extra.readBigUInt64LE(q));
          q += 8;
        }
        if (local === 0xffffffff) local = Number(extra.readBigUInt64LE(q));
      }
      e += 4 + size;
    }
    const dataStart = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(dataStart, dataStart + compressed);
    if (method === 0) files.set(name, Buffer.from(data));
    else if (method === 8) files.set(name, inflateRawSync(data));
    else throw new Error(`zip: ${name}: compression method ${method} is not Store or Deflate`);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return files;
}

export { hashGoMod as goModHash } from './dirhash.js';

/** Zip entry names with the `module@version/` prefix removed (entries outside it are kept whole). */
export function zipFileNames(result: DownloadResult): string[] {
  if (!result.zip || !result.Version) return [];
  const prefix = `${result.query.split('@')[0]}@${result.Version}/`;
  return [...result.zip.keys()].map((n) => (n.startsWith(prefix) ? n.slice(prefix.length) : n)).sort();
}
