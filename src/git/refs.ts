import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BrokenRepositoryError } from '../errors.js';
import { coalesce } from '../support/coalesce.js';
import { isMissing, isWrongFileKind, RACY_MS } from '../support/fs-errors.js';
import { isOid, parseTag } from './objects.js';
import type { ObjectStore, RefSnapshot, RefTarget } from './types.js';

/**
 * Reads refs/heads, refs/tags and HEAD into a RefSnapshot, and re-reads only when something
 * changed. Every loose ref update in git is a write to `<ref>.lock` renamed over the ref, which
 * changes the directory's mtime, so the cheap check stats HEAD, packed-refs and the directories
 * under refs/ (never each loose ref file). The stateKey itself is a hash of the refs' content,
 * so it changes exactly when a ref does, not when refs are merely repacked or touched.
 */
export interface RefReader {
  snapshot(): Promise<RefSnapshot>;
}

const MAX_SYMREF_DEPTH = 5;
const MAX_TAG_DEPTH = 100;
const SCOPES = ['refs/heads', 'refs/tags'] as const;

interface PackedRef {
  oid: string;
  /** From a `^` line, or the oid itself when the file's traits say it was peeled and has none. */
  peeled?: string;
}

interface Stamped {
  snapshot: RefSnapshot;
  /** '' when the snapshot must not be trusted on the next call. */
  fingerprint: string;
  dirs: string[];
  /** Tag target oid → peeled oid, reused by the next read (objects are immutable). */
  peels: Map<string, string>;
}

export function createRefReader(gitdir: string, objects: ObjectStore): RefReader {
  let last: Stamped | undefined;

  async function fingerprint(dirs: readonly string[]): Promise<string> {
    const files = ['HEAD', 'packed-refs', 'refs', ...dirs];
    const now = Date.now();
    let racy = false;
    const parts = await Promise.all(
      files.map(async (file) => {
        try {
          const st = await stat(join(gitdir, file), { bigint: true });
          if (now - Number(st.mtimeMs) < RACY_MS) racy = true;
          return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
        } catch (err) {
          if (isMissing(err)) return '-';
          throw err;
        }
      }),
    );
    return racy ? '' : parts.join('|');
  }

  async function check(): Promise<RefSnapshot> {
    const known = last;
    const dirs = known?.dirs ?? [...SCOPES];
    // Stat before reading: a change made during the read then shows up on the next call.
    const stamp = await fingerprint(dirs);
    if (known !== undefined && stamp !== '' && stamp === known.fingerprint) return known.snapshot;
    const read = await readRefs(gitdir, objects, known?.peels ?? new Map());
    // A fingerprint taken over another directory list describes nothing; take one next time.
    const sameDirs = read.dirs.join('\n') === dirs.join('\n');
    last = { ...read, fingerprint: sameDirs ? stamp : '' };
    return read.snapshot;
  }

  return { snapshot: coalesce(check) };
}

async function readRefs(
  gitdir: string,
  objects: ObjectStore,
  oldPeels: ReadonlyMap<string, string>,
): Promise<{ snapshot: RefSnapshot; dirs: string[]; peels: Map<string, string> }> {
  const [packed, loose, headText] = await Promise.all([readPackedRefs(gitdir), readLooseRefs(gitdir), readOptional(join(gitdir, 'HEAD'))]);

  // Loose refs override packed ones; a symbolic loose ref is resolved against the merged view.
  const direct = new Map<string, string>();
  for (const [name, { oid }] of packed) direct.set(name, oid);
  for (const [name, value] of loose.refs) if (isOid(value)) direct.set(name, value);
  const resolveName = (name: string, depth = 0): string | undefined => {
    const value = loose.refs.get(name);
    if (value !== undefined && !isOid(value)) {
      return depth < MAX_SYMREF_DEPTH && value.startsWith('ref: ') ? resolveName(value.slice(5).trim(), depth + 1) : undefined;
    }
    return direct.get(name);
  };

  const branches = new Map<string, string>();
  const tags = new Map<string, RefTarget>();
  const peels = new Map<string, string>();
  const names = new Set([...packed.keys(), ...loose.refs.keys()]);
  await Promise.all(
    [...names].map(async (name) => {
      const oid = resolveName(name);
      if (oid === undefined) return;
      if (name.startsWith('refs/heads/')) {
        branches.set(name.slice(11), oid);
        return;
      }
      const fromPacked = packed.get(name);
      let peeled = fromPacked?.oid === oid ? fromPacked.peeled : undefined;
      if (peeled === undefined) {
        peeled = oldPeels.get(oid) ?? peels.get(oid) ?? (await peelTag(objects, oid));
        peels.set(oid, peeled);
      }
      tags.set(name.slice(10), { oid, peeled });
    }),
  );

  // Every repository has HEAD: without it the directory has gone (or never was one) while served,
  // which must not read as a repository without refs (an empty list, a 404 for every version).
  if (headText === undefined) throw new BrokenRepositoryError('vanished', { op: 'git.refs' });
  let headBranch: string | null = null;
  let head: string | null = null;
  const headValue = headText?.trim();
  if (headValue?.startsWith('ref: ')) {
    const target = headValue.slice(5).trim();
    if (target.startsWith('refs/heads/')) {
      head = branches.get(target.slice(11)) ?? null;
      if (head !== null) headBranch = target.slice(11);
    } else if (target.startsWith('refs/tags/')) {
      head = tags.get(target.slice(10))?.peeled ?? null;
    }
  } else if (headValue !== undefined && isOid(headValue)) {
    head = headValue;
  }

  const sortedBranches = new Map([...branches].sort(byKey));
  const sortedTags = new Map([...tags].sort(byKey));
  const hash = createHash('sha1');
  hash.update(`HEAD ${headBranch ?? ''} ${head ?? ''}\n`);
  for (const [name, oid] of sortedBranches) hash.update(`B ${name} ${oid}\n`);
  for (const [name, t] of sortedTags) hash.update(`T ${name} ${t.oid} ${t.peeled}\n`);
  return {
    snapshot: { stateKey: hash.digest('hex'), headBranch, head, tags: sortedTags, branches: sortedBranches },
    dirs: loose.dirs,
    peels,
  };
}

function byKey<V>(a: [string, V], b: [string, V]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

/** Follows tag → object links until a non-tag; a missing object ends the walk where it is. */
async function peelTag(objects: ObjectStore, oid: string): Promise<string> {
  let current = oid;
  for (let depth = 0; depth < MAX_TAG_DEPTH; depth++) {
    const header = await objects.header(current);
    if (header === null || header.type !== 'tag') return current;
    const object = await objects.read(current);
    if (object === null) return current;
    current = parseTag(current, object.data).object;
  }
  return current;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (isMissing(err) || isWrongFileKind(err)) return undefined;
    throw err;
  }
}

function inScope(name: string): boolean {
  return name.startsWith('refs/heads/') || name.startsWith('refs/tags/');
}

/** `packed-refs`: "<oid> <ref>" lines, each optionally followed by "^<peeled oid>". */
async function readPackedRefs(gitdir: string): Promise<Map<string, PackedRef>> {
  const refs = new Map<string, PackedRef>();
  const text = await readOptional(join(gitdir, 'packed-refs'));
  if (text === undefined) return refs;
  let fullyPeeled = false;
  let tagsPeeled = false;
  let previous: { name: string; ref: PackedRef } | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) {
      const traits = line.startsWith('# pack-refs with:') ? line.slice(17).trim().split(/\s+/) : [];
      fullyPeeled ||= traits.includes('fully-peeled');
      tagsPeeled ||= traits.includes('peeled');
      continue;
    }
    if (line.startsWith('^')) {
      const peeled = line.slice(1).trim();
      if (previous !== undefined && isOid(peeled)) previous.ref.peeled = peeled;
      continue;
    }
    const space = line.indexOf(' ');
    const oid = line.slice(0, space);
    const name = line.slice(space + 1).trim();
    previous = undefined;
    if (space !== 40 || !isOid(oid) || !inScope(name)) continue;
    // With these traits, a ref without a "^" line is known not to be an annotated tag.
    const peeledKnown = fullyPeeled || (tagsPeeled && name.startsWith('refs/tags/'));
    const ref: PackedRef = peeledKnown ? { oid, peeled: oid } : { oid };
    refs.set(name, ref);
    previous = { name, ref };
  }
  return refs;
}

/** Loose refs under refs/heads and refs/tags: name → file content (an oid or "ref: …"). */
async function readLooseRefs(gitdir: string): Promise<{ refs: Map<string, string>; dirs: string[] }> {
  const refs = new Map<string, string>();
  const dirs: string[] = [];
  async function walk(dir: string): Promise<void> {
    let entries: Dirent[];
    try {
      entries = await readdir(join(gitdir, dir), { withFileTypes: true });
    } catch (err) {
      if (isMissing(err) || isWrongFileKind(err)) return;
      throw err;
    }
    // The scope roots are always watched (see below), even when they do not exist yet.
    if (!(SCOPES as readonly string[]).includes(dir)) dirs.push(dir);
    await Promise.all(
      entries.map(async (entry) => {
        const name = `${dir}/${entry.name}`;
        if (entry.isDirectory()) return walk(name);
        if (!entry.isFile() || entry.name.endsWith('.lock')) return;
        const text = await readOptional(join(gitdir, name));
        const value = text?.trim();
        if (value !== undefined && (isOid(value) || value.startsWith('ref: '))) refs.set(name, value);
      }),
    );
  }
  await Promise.all(SCOPES.map((scope) => walk(scope)));
  return { refs, dirs: [...SCOPES, ...dirs.sort()] };
}
