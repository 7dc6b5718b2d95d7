/** Tests of Node's fs error codes, shared by every folder that reads the disk. */

function hasCode(err: unknown, ...codes: string[]): boolean {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' && codes.includes(err.code);
}

/** The path does not exist (ENOENT). */
export function isMissing(err: unknown): boolean {
  return hasCode(err, 'ENOENT');
}

/** A path element is a file where a directory was expected (ENOTDIR). */
export function isNotDirectory(err: unknown): boolean {
  return hasCode(err, 'ENOTDIR');
}

/** The path is a directory, or runs through a file, where a plain file was expected (EISDIR or ENOTDIR). */
export function isWrongFileKind(err: unknown): boolean {
  return hasCode(err, 'EISDIR', 'ENOTDIR');
}

/**
 * A file time newer than this may hide a second change made within the same clock tick (git's
 * "racy" stat, read-cache.c): such a stamp is not trusted as a cache key.
 */
export const RACY_MS = 2000;
