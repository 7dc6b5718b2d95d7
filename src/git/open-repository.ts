import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BrokenRepositoryError, NotFoundError } from '../errors.js';
import { MemoryPool, OID_STRING_BYTES, type PoolCache } from '../support/memory-pool.js';
import { createYielder } from '../support/yielder.js';
import { isOid, parseCommit, parseTag, parseTree } from './objects.js';
import { createPackObjectStore, type PackObjectStore } from './pack-object-store.js';
import { createRefReader, type RefReader } from './refs.js';
import type { GitRepository, OpenRepositoryOptions } from './repository.js';
import type { AnnotatedTag, Commit, GitObject, ObjectStore, ObjectType, RefSnapshot, TreeEntry } from './types.js';

/** A remembered parent list: the commit id as key, its array and one id per parent. */
const parentEntryBytes = (parents: readonly string[]): number => OID_STRING_BYTES * (1 + parents.length) + 64;
/** A cached ancestor set: one id per commit in it. */
const ancestorSetBytes = (set: ReadonlySet<string>): number => OID_STRING_BYTES * (set.size + 1);
/** The budget of a repository opened on its own: its objects, parent lists and ancestor sets. */
const DEFAULT_REPOSITORY_CACHE_BYTES = 64 * 1024 * 1024;
/** Commits read at once during a walk: enough to overlap reads, few enough to stay cheap. */
const WALK_BATCH = 32;
const TREE_MODE = 0o040000;

/**
 * Opens a bare repository (with or without a `config` file) or a work tree whose `.git` is a
 * directory. Throws NotFoundError when `path` is neither.
 */
export async function openGitRepository(path: string, options: OpenRepositoryOptions = {}): Promise<GitRepository> {
  const gitdir = await findGitdir(path);
  const memory = options.memory ?? new MemoryPool(options.cacheBytes ?? DEFAULT_REPOSITORY_CACHE_BYTES);
  if (options.objectStore) {
    const objects = await options.objectStore(gitdir);
    // An injected store need not list ids by prefix; the pack reader's indexes can, without reading packs.
    let prefixStore: Promise<PackObjectStore> | undefined;
    const prefixes = (): Promise<PackObjectStore> => (prefixStore ??= createPackObjectStore(gitdir, { cacheBytes: 0 }));
    return new Repository(
      memory,
      objects,
      createRefReader(gitdir, objects),
      async (prefix) => (await prefixes()).findByPrefix(prefix),
      async () => {
        await Promise.all([objects.close(), prefixStore?.then((s) => s.close())]);
      },
    );
  }
  const objects = await createPackObjectStore(gitdir, { memory });
  return new Repository(
    memory,
    objects,
    createRefReader(gitdir, objects),
    (prefix) => objects.findByPrefix(prefix),
    () => objects.close(),
    () => objects.indexBytes(),
  );
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function looksLikeGitdir(dir: string): Promise<boolean> {
  const [objects, head] = await Promise.all([isDirectory(join(dir, 'objects')), isFile(join(dir, 'HEAD'))]);
  return objects && head;
}

async function findGitdir(path: string): Promise<string> {
  const dotGit = join(path, '.git');
  if (await looksLikeGitdir(dotGit)) return dotGit;
  if (await looksLikeGitdir(path)) return path;
  // No path in the message: it may reach a client.
  throw new NotFoundError('repository not found', { op: 'git.repository' });
}

/**
 * Every object id this code reads comes from a ref, a commit, a tree or a prefix search, so a
 * missing one means a broken repository (a 500), not a missing module; a wrong type stays "not
 * found" (a tag on a blob is an unknown revision to go).
 */
function missing(oid: string, type?: ObjectType): NotFoundError | BrokenRepositoryError {
  if (type === undefined) return new BrokenRepositoryError('missing-object', { op: 'git.repository' });
  return new NotFoundError(`object ${oid} is not a ${type}`, { op: 'git.repository' });
}

class Repository implements GitRepository {
  private readonly parents: PoolCache<readonly string[]>;
  private readonly ancestorSets: PoolCache<ReadonlySet<string>>;
  private readonly ancestorWalks = new Map<string, Promise<ReadonlySet<string>>>();
  /** The last reachability answer: one set per repository, the size of its history. */
  private reachable: { key: string; tips: string[]; set: Promise<Set<string>> } | null = null;

  constructor(
    memory: MemoryPool,
    readonly objects: ObjectStore,
    private readonly refReader: RefReader,
    private readonly prefixSearch: (prefix: string) => Promise<string[]>,
    private readonly release: () => Promise<void>,
    private readonly indexSize: () => number = () => 0,
  ) {
    this.parents = memory.cache(parentEntryBytes);
    this.ancestorSets = memory.cache(ancestorSetBytes);
  }

  refs(): Promise<RefSnapshot> {
    return this.refReader.snapshot();
  }

  private async readTyped(oid: string, type: ObjectType): Promise<GitObject> {
    const object = await this.objects.read(oid);
    if (object === null) throw missing(oid);
    if (object.type !== type) throw missing(oid, type);
    return object;
  }

  async readCommit(oid: string): Promise<Commit> {
    const commit = parseCommit(oid, (await this.readTyped(oid, 'commit')).data);
    this.parents.set(oid, commit.parents);
    return commit;
  }

  async readTag(oid: string): Promise<AnnotatedTag> {
    return parseTag(oid, (await this.readTyped(oid, 'tag')).data);
  }

  async readTree(oid: string): Promise<TreeEntry[]> {
    return parseTree(oid, (await this.readTyped(oid, 'tree')).data);
  }

  async readBlob(oid: string): Promise<Buffer> {
    return (await this.readTyped(oid, 'blob')).data;
  }

  async blobSize(oid: string): Promise<number> {
    const header = await this.objects.header(oid);
    if (header === null) throw missing(oid);
    if (header.type !== 'blob') throw missing(oid, 'blob');
    return header.size;
  }

  async lookupPath(treeOid: string, path: string): Promise<TreeEntry | null> {
    if (path === '') {
      const header = await this.objects.header(treeOid);
      return header?.type === 'tree' ? { mode: TREE_MODE, name: '', oid: treeOid, invalidUtf8: false } : null;
    }
    const parts = path.split('/');
    let current = treeOid;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (part === '') return null;
      const object = await this.objects.read(current);
      // A tree its parent names but the repository lacks: reading on would call the file absent.
      if (object === null) throw missing(current);
      if (object.type !== 'tree') return null;
      const entry = parseTree(current, object.data).find((e) => e.name === part);
      if (entry === undefined) return null;
      if (i === parts.length - 1) return entry;
      if (entry.mode !== TREE_MODE) return null;
      current = entry.oid;
    }
    return null;
  }

  private async parentsOf(oid: string): Promise<readonly string[]> {
    return this.parents.get(oid) ?? (await this.readCommit(oid)).parents;
  }

  /**
   * Parents of each commit in `batch`. A parent missing from the repository (a shallow or
   * partial clone) ends that line of history instead of failing the walk.
   */
  private async parentsOfBatch(batch: string[]): Promise<Array<readonly string[]>> {
    return Promise.all(
      batch.map(async (oid) => {
        try {
          return await this.parentsOf(oid);
        } catch (err) {
          if (err instanceof NotFoundError || err instanceof BrokenRepositoryError) return [];
          throw err;
        }
      }),
    );
  }

  /** Breadth-first over parents from `start`; stops early when `until` is reached. */
  private async walk(start: string, until?: string): Promise<{ seen: Set<string>; found: boolean }> {
    await this.parentsOf(start); // throws NotFoundError for a missing or non-commit start
    const seen = new Set<string>([start]);
    const maybeYield = createYielder();
    let queue = [start];
    while (queue.length > 0) {
      const next: string[] = [];
      for (let i = 0; i < queue.length; i += WALK_BATCH) {
        await maybeYield();
        const batch = queue.slice(i, i + WALK_BATCH);
        for (const parents of await this.parentsOfBatch(batch)) {
          for (const parent of parents) {
            if (seen.has(parent)) continue;
            if (parent === until) return { seen, found: true };
            seen.add(parent);
            next.push(parent);
          }
        }
      }
      queue = next;
    }
    return { seen, found: false };
  }

  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    const known = this.ancestorSets.get(descendant);
    if (known !== undefined) return known.has(ancestor);
    if (ancestor === descendant) {
      await this.parentsOf(descendant);
      return true;
    }
    if (!isOid(ancestor)) return false;
    return (await this.walk(descendant, ancestor)).found;
  }

  async objectType(oid: string): Promise<ObjectType | null> {
    if (!isOid(oid)) return null;
    return (await this.objects.header(oid))?.type ?? null;
  }

  reachableFrom(tips: readonly string[]): Promise<ReadonlySet<string>> {
    const key = [...new Set(tips)].sort().join(',');
    if (this.reachable?.key === key) return this.reachable.set;
    const previous = this.reachable;
    const set = (async () => {
      // Only additions since the last answer: start from it. A tip that went away (a deleted
      // branch) may have taken history with it, so then everything is walked again.
      const earlier = previous ? await previous.set.catch(() => null) : null;
      const keep = earlier && previous!.tips.every((t) => tips.includes(t)) ? earlier : null;
      const seen = new Set<string>(keep ?? []);
      let queue: string[] = [];
      for (const tip of new Set(tips)) {
        if (seen.has(tip) || (await this.objectType(tip)) !== 'commit') continue;
        seen.add(tip);
        queue.push(tip);
      }
      const maybeYield = createYielder();
      while (queue.length > 0) {
        const next: string[] = [];
        for (let i = 0; i < queue.length; i += WALK_BATCH) {
          await maybeYield();
          for (const parents of await this.parentsOfBatch(queue.slice(i, i + WALK_BATCH))) {
            for (const parent of parents) {
              if (seen.has(parent)) continue;
              seen.add(parent);
              next.push(parent);
            }
          }
        }
        queue = next;
      }
      return seen;
    })();
    this.reachable = { key, tips: [...new Set(tips)], set };
    set.catch(() => {
      if (this.reachable?.set === set) this.reachable = null;
    });
    return set;
  }

  ancestors(commit: string): Promise<ReadonlySet<string>> {
    const known = this.ancestorSets.get(commit);
    if (known !== undefined) return Promise.resolve(known);
    let pending = this.ancestorWalks.get(commit);
    if (pending === undefined) {
      pending = this.walk(commit)
        .then(({ seen }) => {
          this.ancestorSets.set(commit, seen);
          return seen;
        })
        .finally(() => this.ancestorWalks.delete(commit));
      this.ancestorWalks.set(commit, pending);
    }
    return pending;
  }

  indexBytes(): number {
    return this.indexSize();
  }

  async findByPrefix(prefix: string): Promise<string[]> {
    if (!/^[0-9a-f]{4,40}$/.test(prefix)) return [];
    return this.prefixSearch(prefix);
  }

  async close(): Promise<void> {
    this.reachable = null;
    this.parents.clear();
    this.ancestorSets.clear();
    await this.release();
  }
}
