import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedVersion } from '../modfetch/code-repo.js';

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

/** Pins persisted under `<dir>/pins/`, so they survive restarts; memory in front. */
export function createDiskPins(dir: string, scope: string): VersionPins {
  const memory = createMemoryPins();
  const root = join(dir, 'pins');
  let rootMade: Promise<unknown> | null = null;
  const fileFor = (path: string, version: string): string =>
    join(root, `${createHash('sha256').update(`${scope}\0${path}\0${version}`).digest('hex')}.json`);
  return {
    async get(path, version) {
      const hit = await memory.get(path, version);
      if (hit) return hit;
      try {
        const data = JSON.parse(await readFile(fileFor(path, version), 'utf8')) as ResolvedVersion;
        if (typeof data.commit === 'string' && typeof data.version === 'string' && typeof data.time === 'number') {
          await memory.set(path, version, data);
          return data;
        }
      } catch {
        // missing or unreadable: not pinned yet
      }
      return null;
    },
    async set(path, version, resolved) {
      // Concurrent requests for the same version race here; the first one in memory wins and
      // is the only one that writes.
      if (await memory.get(path, version)) return;
      await memory.set(path, version, resolved);
      // Once per process; a failure is retried by the next pin.
      rootMade ??= mkdir(root, { recursive: true }).catch((err: unknown) => {
        rootMade = null;
        throw err;
      });
      await rootMade;
      const file = fileFor(path, version);
      const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
      await writeFile(tmp, JSON.stringify(resolved));
      await rename(tmp, file);
    },
  };
}
