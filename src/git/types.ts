/**
 * The object-access interface. Every git read in the proxy goes through these types, so the
 * object source (isomorphic-git, or the random-access pack reader) can be swapped without
 * touching the Go-module logic above it.
 */

export type ObjectType = 'commit' | 'tree' | 'blob' | 'tag';

export interface GitObject {
  type: ObjectType;
  /** Raw object content (no "type size\0" header). */
  data: Buffer;
}

/** Reads raw objects by 40-hex object id. */
export interface ObjectStore {
  /** The object, or null when the repository does not have it. */
  read(oid: string): Promise<GitObject | null>;
  /** Type and size without inflating more than needed; null when missing. */
  header(oid: string): Promise<{ type: ObjectType; size: number } | null>;
  /** Releases file descriptors and caches. */
  close(): Promise<void>;
}

export interface Commit {
  oid: string;
  tree: string;
  parents: string[];
  /** Committer time, seconds since the epoch (the timezone does not matter to Go: it uses UTC). */
  committerTime: number;
}

export interface AnnotatedTag {
  oid: string;
  object: string;
  type: ObjectType;
}

export interface TreeEntry {
  /** Numeric mode as stored in the tree (e.g. 0o100644, 0o040000). */
  mode: number;
  /** Entry name; git stores bytes, names are decoded as UTF-8 (invalid bytes become U+FFFD). */
  name: string;
  /** True when the raw name bytes were not valid UTF-8 (Go rejects such files). */
  invalidUtf8: boolean;
  oid: string;
}

/** One ref as found in the repository. */
export interface RefTarget {
  /** What the ref points at (a commit, or an annotated tag object). */
  oid: string;
  /** For tags: the commit (or other non-tag object) after peeling; equal to oid for lightweight tags. */
  peeled: string;
}

/** A consistent view of a repository's refs at one moment. */
export interface RefSnapshot {
  /** Changes whenever any ref changes; used as a cache key for anything derived from refs. */
  stateKey: string;
  /** The branch HEAD points at (e.g. "main"), or null when HEAD is detached or dangling. */
  headBranch: string | null;
  /** The commit HEAD resolves to, or null for an empty repository. */
  head: string | null;
  /** refs/tags/<name> → target (name without the refs/tags/ prefix). */
  tags: Map<string, RefTarget>;
  /** refs/heads/<name> → commit oid. */
  branches: Map<string, string>;
}
