import fs from 'node:fs';
import git, { Errors } from 'isomorphic-git';
import { InternalError } from '../../src/errors.js';
import { isObjectType, isOid } from '../../src/git/objects.js';
import type { OpenRepositoryOptions } from '../../src/git/repository.js';
import type { GitObject, ObjectStore, ObjectType } from '../../src/git/types.js';

/**
 * The reference object source for tests and benchmarks: isomorphic-git only. It is correct but
 * slow (it loads whole packs into memory on first use; BENCHMARKS.md has the figures), so the
 * proxy never reads through it; the tests run the repository suite over it and the pack reader.
 */
export async function createIsomorphicGitObjectStore(gitdir: string): Promise<ObjectStore> {
  // One cache for the store's lifetime: without it every call reloads and re-hashes every pack.
  let cache: object | undefined = {};

  async function read(oid: string): Promise<GitObject | null> {
    if (cache === undefined) throw new InternalError('object store is closed');
    if (!isOid(oid)) return null;
    try {
      const result = await git.readObject({ fs, gitdir, oid, format: 'content', cache });
      const type: string = result.type;
      if (!isObjectType(type) || !(result.object instanceof Uint8Array)) {
        throw new InternalError(`unexpected object from isomorphic-git for ${oid}`);
      }
      const data = Buffer.isBuffer(result.object)
        ? result.object
        : Buffer.from(result.object.buffer, result.object.byteOffset, result.object.byteLength);
      return { type, data };
    } catch (err) {
      if (err instanceof Errors.NotFoundError) return null;
      throw err;
    }
  }

  return {
    read,
    // isomorphic-git has no header-only read: the whole object is inflated for its size.
    async header(oid: string): Promise<{ type: ObjectType; size: number } | null> {
      const object = await read(oid);
      return object === null ? null : { type: object.type, size: object.data.length };
    },
    async close(): Promise<void> {
      cache = undefined;
    },
  };
}

/** The object readers a repository can be opened with, for suites that run over both. */
export type ObjectReaderKind = 'pack' | 'isomorphic-git';

export function readerOptions(reader: ObjectReaderKind): OpenRepositoryOptions {
  return reader === 'pack' ? {} : { objectStore: createIsomorphicGitObjectStore };
}
