import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errorLogFields, InternalError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import type { ResolvedVersion } from '../modfetch/code-repo.js';
import { isMissing } from '../support/fs-errors.js';

/**
 * Go requires that a version, once served, never changes ("must always serve the same content").
 * A pin records the commit a canonical version was first served from; later requests use the
 * pin even if the tag has since been moved or deleted.
 */
export interface VersionPins {
  get(modulePath: string, version: string): Promise<ResolvedVersion | null>;
  set(modulePath: string, version: string, resolved: ResolvedVersion): Promise<void>;
}

/**
 * Pins kept in memory (what you get without a cache directory): the newest `limit` of them, so
 * a process that serves many versions forgets the oldest first.
 */
export function createMemoryPins(limit = 100_000): VersionPins {
  const pins = new Map<string, ResolvedVersion>();
  return {
    async get(path, version) {
      return pins.get(`${path}@${version}`) ?? null;
    },
    async set(path, version, resolved) {
      const key = `${path}@${version}`;
      if (pins.has(key)) return;
      if (pins.size >= limit) pins.delete(pins.keys().next().value as string);
      pins.set(key, resolved);
    },
  };
}

/** The checksum a pin file carries over its own fields, so a flipped byte is told from a good pin. */
function pinSum(path: string, version: string, r: ResolvedVersion): string {
  return createHash('sha256').update(`pin-1\0${path}\0${version}\0${r.version}\0${r.commit}\0${r.time}`).digest('hex');
}

/** A pin file that is there but cannot be trusted: the version is refused (5xx) until an operator looks. */
export const DAMAGED_PIN = 'version pin is damaged';

/**
 * Pins persisted under `<dir>/pins/`, so they survive restarts; memory in front. Each file is
 * written to a unique temporary name, fsynced, then renamed, and carries a checksum of its fields.
 * A pin file that exists but does not parse or match its checksum is never read as "not pinned":
 * that would serve the version from wherever its tag points today, with different content. The
 * version is refused with a 500 and an error log line until an operator removes (or restores)
 * the file. A folder that cannot be written keeps the pin in memory and logs once.
 */
export function createDiskPins(dir: string, scope: string, logger: Logger = silentLogger): VersionPins {
  const memory = createMemoryPins();
  const root = join(dir, 'pins');
  let rootMade: Promise<unknown> | null = null;
  let writeFailed: string | null = null;
  const fileFor = (path: string, version: string): string =>
    join(root, `${createHash('sha256').update(`${scope}\0${path}\0${version}`).digest('hex')}.json`);
  return {
    async get(path, version) {
      const hit = await memory.get(path, version);
      if (hit) return hit;
      let text: string;
      try {
        text = await readFile(fileFor(path, version), 'utf8');
      } catch (err) {
        if (isMissing(err)) return null;
        throw damaged(err);
      }
      const data = parsePin(text);
      if (!data || (data.sum !== undefined && data.sum !== pinSum(path, version, data))) throw damaged();
      const pin: ResolvedVersion = { version: data.version, commit: data.commit, time: data.time };
      await memory.set(path, version, pin);
      return pin;
    },
    async set(path, version, resolved) {
      // Concurrent requests for the same version race here; the first one in memory wins and
      // is the only one that writes.
      if (await memory.get(path, version)) return;
      await memory.set(path, version, resolved);
      const file = fileFor(path, version);
      const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        // Once per process; a failure is retried by the next pin.
        rootMade ??= mkdir(root, { recursive: true }).catch((err: unknown) => {
          rootMade = null;
          throw err;
        });
        await rootMade;
        const body = { version: resolved.version, commit: resolved.commit, time: resolved.time, sum: pinSum(path, version, resolved) };
        const handle = await open(tmp, 'wx');
        try {
          await handle.writeFile(JSON.stringify(body));
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(tmp, file);
        writeFailed = null;
      } catch (err) {
        await rm(tmp, { force: true }).catch(() => undefined);
        // Served from the memory pin for the life of the process; said once per errno, without the path.
        const { errno = 'unknown' } = errorLogFields(err);
        if (writeFailed !== errno) logger.error({ op: 'pins', errno }, 'version pins cannot be written; pinning in memory only');
        writeFailed = errno;
      }
    },
  };
  function damaged(cause?: unknown): InternalError {
    logger.error(
      { op: 'pins', kind: 'damaged-pin' },
      'a version pin file is damaged; the version is refused until it is removed or restored',
    );
    return new InternalError(DAMAGED_PIN, { op: 'pins', ...(cause !== undefined && { cause }) });
  }
}

function parsePin(text: string): (ResolvedVersion & { sum?: string }) | null {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof data !== 'object' || data === null) return null;
  const d = data as Record<string, unknown>;
  if (typeof d['commit'] !== 'string' || !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(d['commit'])) return null;
  if (typeof d['version'] !== 'string' || typeof d['time'] !== 'number' || !Number.isFinite(d['time'])) return null;
  // Pins written before they carried a checksum are read on their fields alone.
  if (d['sum'] !== undefined && typeof d['sum'] !== 'string') return null;
  return { version: d['version'], commit: d['commit'], time: d['time'], ...(typeof d['sum'] === 'string' && { sum: d['sum'] }) };
}
