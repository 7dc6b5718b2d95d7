import { createHash, randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * What makes a cached file trustworthy: its name carries its length and SHA-256, so a file that
 * was truncated, extended or bit-flipped after it was written is told apart from a good one
 * without any index that could itself go stale. A name is written once, by an atomic rename of a
 * file that was fsynced first; another process (a replica on the same folder) reads the same
 * facts from the same name.
 */

/** `<key>-<length>-<sha256 hex>.zip` */
const FINISHED = /^([0-9a-f]{64})-(\d+)-([0-9a-f]{64})\.zip$/;

export interface CachedFileFacts {
  key: string;
  size: number;
  sum: string;
}

export function finishedName(facts: CachedFileFacts): string {
  return `${facts.key}-${facts.size}-${facts.sum}.zip`;
}

export function parseFinishedName(name: string): CachedFileFacts | null {
  const m = FINISHED.exec(name);
  if (!m) return null;
  const size = Number(m[2]);
  return Number.isSafeInteger(size) ? { key: m[1]!, size, sum: m[3]! } : null;
}

/**
 * A temporary name no other process or build can hold: pid and random bytes. Only its owner
 * removes it, or anyone once it is older than {@link STALE_TMP_MS}.
 */
export function temporaryName(key: string): string {
  return `${key}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
}

/**
 * A build writes its temporary file continuously, so one untouched this long belongs to a process
 * that died: it may be removed by anyone.
 */
export const STALE_TMP_MS = 60 * 60 * 1000;

/** The SHA-256 of a stream of chunks, with its length. */
export class RunningSum {
  private readonly hash = createHash('sha256');
  length = 0;
  update(chunk: Buffer): void {
    this.hash.update(chunk);
    this.length += chunk.length;
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}

/** After a rename, the directory entry itself must reach the disk; best effort (not every fs allows it). */
export async function syncDirectoryOf(file: string): Promise<void> {
  const dir = await open(dirname(file), 'r').catch(() => null);
  if (!dir) return;
  await dir.sync().catch(() => undefined);
  await dir.close().catch(() => undefined);
}

/** Disk conditions under which the cache stops writing for a while and serves without caching. */
export function isUnwritableDiskError(err: unknown): boolean {
  const code = err instanceof Error && 'code' in err ? (err as NodeJS.ErrnoException).code : undefined;
  return (
    code !== undefined &&
    ['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'ENOTDIR', 'EISDIR', 'EEXIST', 'EIO', 'EMFILE', 'ENFILE'].includes(code)
  );
}
