/**
 * Differential testing against the real golang.org/x/mod (Debian's golang-golang-x-mod-dev,
 * x/mod v0.7.0, the version Go 1.19 vendors). test/helpers/go-reference/main.go is built once
 * per content hash into the temp directory and then answers JSON-lines requests.
 *
 * Without `go` or the x/mod sources the differential tests are skipped, except under CI (`CI`
 * set), where a missing reference is a failure: parity with Go is the point of these tests.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { IN_CI } from './ci.js';

export { seededRandom } from './seeded-random.js';

const execFileAsync = promisify(execFile);

/** Where Debian installs the x/mod sources; override with GO_REFERENCE_GOPATH. */
const GOPATH = process.env['GO_REFERENCE_GOPATH'] ?? '/usr/share/gocode';

/** The Go source sits next to this helper in the source tree (tsc does not copy it to dist/). */
function mainGoPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // Running from dist/test/helpers: go up to the repository root.
  const candidates = [
    resolve(here, 'go-reference', 'main.go'),
    resolve(here, '..', '..', '..', 'test', 'helpers', 'go-reference', 'main.go'),
  ];
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) {
    throw new Error(`go-reference: main.go not found (looked in ${candidates.join(', ')})`);
  }
  return found;
}

function goEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GO111MODULE: 'off',
    GOPATH,
    GOFLAGS: '',
    GOTOOLCHAIN: 'local',
  };
  if (env['GOCACHE'] === undefined && env['HOME'] === undefined && env['XDG_CACHE_HOME'] === undefined) {
    env['GOCACHE'] = join(tmpdir(), 'go-reference-gocache');
  }
  return env;
}

export interface GoReference {
  /** Sends the requests to the Go program and returns its answers, one per request. */
  ask<T = unknown>(requests: readonly object[]): Promise<T[]>;
}

let building: Promise<string> | undefined;

async function build(): Promise<string> {
  const source = mainGoPath();
  // Keyed on the toolchain and on x/mod's sources too: after a switch of Go (or of x/mod) the
  // reference must be built again, or the tests would compare against the old one.
  const { stdout: goVersion } = await execFileAsync('go', ['version'], { env: goEnv() });
  const xmod = await readFile(join(GOPATH, 'src', 'golang.org', 'x', 'mod', 'go.mod')).catch(() => Buffer.alloc(0));
  const hash = createHash('sha256')
    .update(await readFile(source))
    .update(`\0${goVersion}\0`)
    .update(xmod)
    .digest('hex')
    .slice(0, 16);
  const dir = join(tmpdir(), 'go-reference-bin');
  const binary = join(dir, `go-reference-${hash}`);
  try {
    await stat(binary);
    return binary;
  } catch {
    // not built yet
  }
  await mkdir(dir, { recursive: true });
  // Another test process may be building too: build to a private name, then rename atomically.
  const tmp = `${binary}.${process.pid}.${Date.now()}`;
  try {
    await execFileAsync('go', ['build', '-o', tmp, source], { env: goEnv(), cwd: dirname(source) });
    await rename(tmp, binary);
  } finally {
    await rm(tmp, { force: true });
  }
  return binary;
}

function run(binary: string, input: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`go-reference exited with ${code}: ${Buffer.concat(err).toString()}`));
        return;
      }
      resolvePromise(Buffer.concat(out).toString('utf8'));
    });
    child.stdin.end(input);
  });
}

/** A reference whose every question fails with `error`, so the differential test reports it. */
function failingReference(error: Error): GoReference {
  return {
    ask<T>(): Promise<T[]> {
      return Promise.reject(error);
    },
  };
}

/**
 * The Go reference, or `{ skip }` with the reason when it cannot run outside CI. Under CI a
 * missing toolchain or x/mod does not skip: the returned reference fails every question, so
 * the differential tests fail with the reason.
 */
export async function loadGoReference(): Promise<GoReference | { skip: string }> {
  const inCI = IN_CI;
  let reason: string | undefined;
  try {
    await execFileAsync('go', ['version'], { env: goEnv() });
  } catch {
    reason = '`go` is not installed (apt-get install golang-go)';
  }
  if (reason === undefined && !existsSync(join(GOPATH, 'src', 'golang.org', 'x', 'mod', 'module', 'module.go'))) {
    reason = `golang.org/x/mod sources not found under ${GOPATH} (apt-get install golang-golang-x-mod-dev)`;
  }
  if (reason !== undefined) {
    if (inCI) {
      return failingReference(new Error(`go-reference: ${reason}; the differential tests must run under CI`));
    }
    return { skip: `differential test against Go skipped: ${reason}` };
  }
  building ??= build();
  let binary: string;
  try {
    binary = await building;
  } catch (err) {
    return failingReference(new Error(`go-reference: building main.go failed: ${String(err)}`, { cause: err }));
  }
  return {
    async ask<T>(requests: readonly object[]): Promise<T[]> {
      const input = requests.map((r) => JSON.stringify(r)).join('\n') + '\n';
      const output = await run(binary, input);
      const lines = output.split('\n').filter((l) => l !== '');
      if (lines.length !== requests.length) {
        throw new Error(`go-reference: ${requests.length} requests but ${lines.length} answers`);
      }
      return lines.map((l) => JSON.parse(l) as T);
    },
  };
}

/** Picks one element; `rand` from seededRandom. */
export function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

/** A random string of `min`..`max` elements drawn from `alphabet` (strings or code points). */
export function randomString(rand: () => number, alphabet: readonly string[], min: number, max: number): string {
  const n = min + Math.floor(rand() * (max - min + 1));
  let s = '';
  for (let i = 0; i < n; i++) {
    s += pick(rand, alphabet);
  }
  return s;
}
