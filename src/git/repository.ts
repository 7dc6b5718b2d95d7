import type { MemoryPool } from '../support/memory-pool.js';
import type { AnnotatedTag, Commit, ObjectStore, ObjectType, RefSnapshot, TreeEntry } from './types.js';

/**
 * High-level, read-only access to one bare (or non-bare) git repository. The Go-module logic
 * only ever talks to this interface. Implementations must be safe for concurrent use.
 */
export interface GitRepository {
  /** The object source underneath (exposed for tests and benchmarks). */
  readonly objects: ObjectStore;
  /** Refs as they are now; cheap to call repeatedly (re-reads only what changed). */
  refs(): Promise<RefSnapshot>;
  /** Throws NotFoundError when the object is missing or is not a commit. */
  readCommit(oid: string): Promise<Commit>;
  /** Throws NotFoundError when the object is missing or is not a tag. */
  readTag(oid: string): Promise<AnnotatedTag>;
  /** Entries in stored order. Throws NotFoundError when missing or not a tree. */
  readTree(oid: string): Promise<TreeEntry[]>;
  /** Throws NotFoundError when missing or not a blob. */
  readBlob(oid: string): Promise<Buffer>;
  /** Size of a blob without reading all of it where the store allows. */
  blobSize(oid: string): Promise<number>;
  /**
   * The entry at a slash-separated path below a tree ("" is the tree itself, returned as a
   * synthetic tree entry), or null when any element is missing or a non-tree is traversed.
   */
  lookupPath(treeOid: string, path: string): Promise<TreeEntry | null>;
  /** True when `ancestor` is `descendant` or reachable from it through parents. */
  isAncestor(ancestor: string, descendant: string): Promise<boolean>;
  /** All commits reachable from `commit` (itself included); cached, treat as read-only. */
  ancestors(commit: string): Promise<ReadonlySet<string>>;
  /**
   * All commits reachable from any of `tips` (tips that are not commits are left out), in one
   * walk that visits each commit once. The last answer is remembered: when every tip it was made
   * from is still among `tips`, only the new tips' history is walked. Treat as read-only.
   */
  reachableFrom(tips: readonly string[]): Promise<ReadonlySet<string>>;
  /** The type of an object, read from its header only; null when missing. */
  objectType(oid: string): Promise<ObjectType | null>;
  /** Full ids of all objects whose id starts with the lower-case hex `prefix` (4–40 chars). */
  findByPrefix(prefix: string): Promise<string[]>;
  /** Bytes of pack indexes held in memory (they stay while the repository is open). */
  indexBytes(): number;
  /** Releases file descriptors and caches. */
  close(): Promise<void>;
}

export interface OpenRepositoryOptions {
  /**
   * Opens another object source for the git directory instead of the random-access pack reader
   * (the tests run one repository suite over isomorphic-git's reader this way). Defaults to the
   * pack reader; ids are always found by prefix through the pack indexes.
   */
  objectStore?: (gitdir: string) => Promise<ObjectStore>;
  /**
   * The memory budget of the repository's caches (objects, delta types, parent lists, ancestor
   * sets), shared with other repositories. Defaults to a pool of its own of `cacheBytes`.
   */
  memory?: MemoryPool;
  /** The size of that pool of its own when no `memory` is given; 0 keeps nothing. Defaults to 64 MiB. */
  cacheBytes?: number;
}
