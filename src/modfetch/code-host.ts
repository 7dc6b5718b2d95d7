import { NotFoundError, UnknownRevisionError } from '../errors.js';
import type { GitRepository } from '../git/repository.js';
import type { RefSnapshot, TreeEntry } from '../git/types.js';

/**
 * The part of Go's `codehost` git layer that `codeRepo` relies on, re-expressed over a local
 * repository we read directly. Go's direct mode reaches the same answers through `git ls-remote`,
 * shallow fetches and `git log`; this file keeps the observable rules (which refs count, in what
 * order a revision string is tried, what "reachable" means) and leaves the transport out.
 */

/** `codehost.RevInfo`: a commit as direct mode describes it. */
export interface CodeRevInfo {
  /** Full 40-hex commit id. */
  name: string;
  /** First 12 hex digits (`ShortenSHA1`). */
  short: string;
  /** Committer time, seconds since the epoch. */
  time: number;
  /** The requested revision when it is one of the commit's tags, else the commit id. */
  version: string;
  /** Every tag whose peeled target is this commit, sorted bytewise. */
  tags: string[];
}

const MIN_HASH_DIGITS = 7;
const HEX = /^[0-9a-f]+$/;

/** `codehost.AllHex`, restricted to lower case: direct mode treats "86A9970" as an unknown revision. */
export function isLowerHex(rev: string): boolean {
  return HEX.test(rev);
}

export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Maps a peeled commit id to the tag names on it, built once per refs state. */
export function tagsByCommit(refs: RefSnapshot): Map<string, string[]> {
  const byCommit = new Map<string, string[]>();
  for (const [name, target] of refs.tags) {
    const list = byCommit.get(target.peeled);
    if (list) list.push(name);
    else byCommit.set(target.peeled, [name]);
  }
  for (const list of byCommit.values()) list.sort(compareBytes);
  return byCommit;
}

/**
 * Direct mode's view of one repository at one refs state. Everything here is derived from the
 * snapshot and immutable objects, so an instance can be shared by concurrent requests.
 */
export class CodeHost {
  private readonly tagIndex: Map<string, string[]>;
  private sortedTags: string[] | null = null;
  private tipList: string[] | null = null;
  private reachable: Promise<ReadonlySet<string>> | null = null;

  constructor(
    readonly repo: GitRepository,
    readonly refs: RefSnapshot,
  ) {
    this.tagIndex = tagsByCommit(refs);
  }

  /** Tag names starting with `prefix`, sorted bytewise (`(*gitRepo).Tags`). */
  tags(prefix: string): string[] {
    // Sorted once per refs state: stat and pseudo-version checks ask for prefixes many times.
    this.sortedTags ??= [...this.refs.tags.keys()].sort(compareBytes);
    const sorted = this.sortedTags;
    if (prefix === '') return sorted.slice();
    // Names with the prefix are one run of the bytewise order: find its start, read while they match.
    const key = Buffer.from(prefix, 'utf8');
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (Buffer.compare(Buffer.from(sorted[mid]!, 'utf8'), key) < 0) lo = mid + 1;
      else hi = mid;
    }
    const out: string[] = [];
    for (let i = lo; i < sorted.length && sorted[i]!.startsWith(prefix); i++) out.push(sorted[i]!);
    return out;
  }

  /** HEAD, every branch and every tag's peeled commit: what direct mode can fetch (once per refs state). */
  private tips(): readonly string[] {
    if (!this.tipList) {
      const tips = new Set<string>();
      if (this.refs.head) tips.add(this.refs.head);
      for (const oid of this.refs.branches.values()) tips.add(oid);
      for (const t of this.refs.tags.values()) tips.add(t.peeled);
      this.tipList = [...tips];
    }
    return this.tipList;
  }

  /** The commit a tag peels to, or null. */
  tagCommit(name: string): string | null {
    return this.refs.tags.get(name)?.peeled ?? null;
  }

  tagsOn(commit: string): string[] {
    return this.tagIndex.get(commit) ?? [];
  }

  /**
   * `(*gitRepo).stat`: tag, then branch, then HEAD, then a lower-case hex prefix of 7–40
   * characters that must match a ref tip, or a commit reachable from heads and tags (direct mode
   * only ever fetches refs/heads/* and refs/tags/*, so nothing else exists for it).
   */
  async stat(rev: string): Promise<CodeRevInfo> {
    let commit: string | null = null;
    const tag = this.refs.tags.get(rev);
    if (tag) {
      commit = tag.peeled;
    } else if (this.refs.branches.has(rev)) {
      commit = this.refs.branches.get(rev) ?? null;
    } else if (rev === 'HEAD' && this.refs.head) {
      commit = this.refs.head;
    } else if (rev.length >= MIN_HASH_DIGITS && rev.length <= 40 && isLowerHex(rev)) {
      commit = await this.resolveHash(rev);
    }
    if (!commit) throw new UnknownRevisionError(rev);
    let time: number;
    try {
      time = (await this.repo.readCommit(commit)).committerTime;
    } catch (err) {
      // A tag on a tree or blob: `git log` fails on it, which direct mode reports as unknown.
      if (err instanceof NotFoundError) throw new UnknownRevisionError(rev);
      throw err;
    }
    const tags = this.tagsOn(commit);
    return {
      name: commit,
      short: commit.slice(0, 12),
      time,
      version: tags.includes(rev) ? rev : commit,
      tags,
    };
  }

  private async resolveHash(prefix: string): Promise<string | null> {
    const matches = this.tips().filter((oid) => oid.startsWith(prefix));
    if (matches.length > 1) throw new NotFoundError(`ambiguous revision ${prefix}`);
    if (matches.length === 1) return matches[0] ?? null;

    // Blobs, trees and tags are never revisions here: only a commit can need the history walk.
    const candidates: string[] = [];
    for (const oid of await this.repo.findByPrefix(prefix)) {
      if ((await this.repo.objectType(oid)) === 'commit') candidates.push(oid);
    }
    if (candidates.length === 0) return null;
    const reachable = await this.reachableCommits();
    const commits = candidates.filter((oid) => reachable.has(oid));
    if (commits.length === 1) return commits[0] ?? null;
    if (commits.length > 1) throw new NotFoundError(`ambiguous revision ${prefix}`);
    return null;
  }

  /**
   * Every commit reachable from HEAD, branches and tags: one walk over the whole history, shared
   * by every tip (each tip walked on its own cost a minute of CPU on terraform's 1,349 tips), and
   * after a push only the new tips' history (see GitRepository.reachableFrom).
   */
  private reachableCommits(): Promise<ReadonlySet<string>> {
    this.reachable ??= this.repo.reachableFrom(this.tips());
    return this.reachable;
  }

  /**
   * `git cat-file blob <commit>:<file>`: the bytes of a regular file or the target of a
   * symlink; null when the path is missing or is a directory or submodule.
   */
  async readFile(commit: string, file: string): Promise<Buffer | null> {
    const entry = await this.entryAt(commit, file);
    if (!entry || !isBlobMode(entry.mode)) return null;
    return this.repo.readBlob(entry.oid);
  }

  async entryAt(commit: string, file: string): Promise<TreeEntry | null> {
    const { tree } = await this.repo.readCommit(commit);
    return this.repo.lookupPath(tree, file);
  }

  /** `git merge-base --is-ancestor tag rev`. */
  async descendsFrom(commit: string, tagName: string): Promise<boolean> {
    const tagCommit = this.tagCommit(tagName);
    if (!tagCommit) return false;
    return this.repo.isAncestor(tagCommit, commit);
  }

  /**
   * `(*gitRepo).RecentTag`. Direct mode first looks in its shallow clone, which holds only the
   * commit itself (and the tags on it) after `fetch --depth=1`; a tag found there is taken as
   * definitive. Only when none is found does it fetch everything and consider every tag merged
   * into the commit.
   */
  async recentTag(
    info: CodeRevInfo,
    prefix: string,
    allowed: (tag: string) => boolean,
    compare: (a: string, b: string) => number,
  ): Promise<string> {
    const pick = (names: Iterable<string>): string => {
      let highest = '';
      for (const name of names) {
        if (!name.startsWith(prefix) || !allowed(name)) continue;
        const semtag = name.slice(prefix.length);
        if (compare(semtag, highest) > 0) highest = semtag;
      }
      return highest === '' ? '' : prefix + highest;
    };
    const own = pick(info.tags);
    if (own !== '' && !isLowerHex(own)) return own;
    const ancestors = await this.repo.ancestors(info.name);
    const merged: string[] = [];
    for (const name of this.tags(prefix)) {
      const commit = this.tagCommit(name);
      if (commit && ancestors.has(commit)) merged.push(name);
    }
    return pick(merged);
  }
}

export function isBlobMode(mode: number): boolean {
  return mode === 0o100644 || mode === 0o100755 || mode === 0o120000 || mode === 0o100664;
}
