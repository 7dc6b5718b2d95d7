import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { InternalError } from '../errors.js';
import { isMissing } from '../support/fs-errors.js';
import { MemoryPool, type PoolCache } from '../support/memory-pool.js';
import { ownedBuffer, retainedBytes } from '../support/owned-buffer.js';
import { createYielder } from '../support/yielder.js';
import { LooseObjects } from './loose-objects.js';
import { EMPTY_TREE_OID, isObjectType, isOid } from './objects.js';
import { applyDeltaYielding, readDeltaSizes } from './pack-delta.js';
import { PackDirectory } from './pack-directory.js';
import { inflateExactAsync, inflatePrefix, type PackFile } from './pack-file.js';
import type { GitObject, ObjectStore, ObjectType } from './types.js';

export interface PackObjectStoreOptions {
  /**
   * The memory budget its caches of inflated objects (delta bases, commits, trees, tags) and delta
   * types count against, shared with other repositories. Defaults to a pool of its own of
   * `cacheBytes`.
   */
  memory?: MemoryPool;
  /** The size of that pool of its own when no `memory` is given; 0 keeps nothing. Defaults to 64 MiB. */
  cacheBytes?: number;
}

/** The pack reader's store; it can also search ids by prefix. */
export interface PackObjectStore extends ObjectStore {
  /** Full ids of all objects starting with the lower-case hex `prefix` (2–40 characters), sorted. */
  findByPrefix(prefix: string): Promise<string[]>;
  /** Bytes of the pack indexes it holds in memory now. */
  indexBytes(): number;
}

const DEFAULT_OBJECT_CACHE_BYTES = 64 * 1024 * 1024;
/** A cached delta type: its key ("<pack>:<offset>", ~20 characters) and the map slot. */
const TYPE_ENTRY_BYTES = 100;
/** git limits chains far below this; a longer one means a cycle in a corrupt pack. */
const MAX_CHAIN = 10_000;
/** Followed alternates nest at most this deep, as in git. */
const MAX_ALTERNATE_DEPTH = 5;

interface Location {
  pack: PackFile;
  offset: number;
}

/** One objects directory: the repository's own, or one named in `objects/info/alternates`. */
interface ObjectDirectory {
  packs: PackDirectory;
  loose: LooseObjects;
}

const EMPTY_TREE: GitObject = { type: 'tree', data: Buffer.alloc(0) };

/**
 * Objects from packs and loose files, without isomorphic-git. Returned buffers may be shared with
 * the cache, so callers must not modify them.
 */
export async function createPackObjectStore(gitdir: string, options: PackObjectStoreOptions = {}): Promise<PackObjectStore> {
  const dirs = await objectDirectories(join(gitdir, 'objects'));
  await Promise.all(dirs.map((d) => d.packs.refresh()));
  return new PackStore(dirs, options.memory ?? new MemoryPool(options.cacheBytes ?? DEFAULT_OBJECT_CACHE_BYTES));
}

async function objectDirectories(objectsDir: string, depth = 0, seen = new Set<string>()): Promise<ObjectDirectory[]> {
  const dir = resolve(objectsDir);
  if (seen.has(dir)) return [];
  seen.add(dir);
  const dirs: ObjectDirectory[] = [{ packs: new PackDirectory(join(dir, 'pack')), loose: new LooseObjects(dir) }];
  if (depth >= MAX_ALTERNATE_DEPTH) return dirs;
  let text: string;
  try {
    text = await readFile(join(dir, 'info', 'alternates'), 'utf8');
  } catch (err) {
    if (isMissing(err)) return dirs;
    throw err;
  }
  for (const line of text.split('\n')) {
    const alt = line.trim();
    if (alt === '' || alt.startsWith('#')) continue;
    dirs.push(...(await objectDirectories(isAbsolute(alt) ? alt : join(dir, alt), depth + 1, seen)));
  }
  return dirs;
}

function keyOf(pack: PackFile, offset: number): string {
  return `${pack.id}:${offset}`;
}

class PackStore implements PackObjectStore {
  private readonly cache: PoolCache<GitObject>;
  /** Types of delta entries, so header-only reads need not walk base chains again. */
  private readonly types: PoolCache<ObjectType>;
  private readonly inflight = new Map<string, Promise<GitObject>>();
  private closed = false;

  constructor(
    private readonly dirs: ObjectDirectory[],
    memory: MemoryPool,
  ) {
    // A fixed overhead per entry, so that many tiny objects cannot grow the map unbounded.
    this.cache = memory.cache((o) => retainedBytes(o.data));
    this.types = memory.cache(() => TYPE_ENTRY_BYTES);
  }

  /** Caches an object with buffers of its own, so the cache counts what it really holds. */
  private keep(key: string, object: GitObject): void {
    if (!this.cache.enabled) return;
    this.cache.set(key, { type: object.type, data: ownedBuffer(object.data) });
  }

  private locate(oid: Buffer): Location | null {
    for (const dir of this.dirs) {
      for (const pack of dir.packs.packs) {
        const offset = pack.index.offsetOf(oid);
        if (offset !== -1) return { pack, offset };
      }
    }
    return null;
  }

  /** Looks in packs, then loose files, then in packs again if any pack directory changed. */
  private async find<T>(
    oid: string,
    fromPack: (at: Location) => Promise<T>,
    fromLoose: (loose: LooseObjects) => Promise<T | null>,
  ): Promise<T | null> {
    if (this.closed) throw new InternalError('object store is closed', { op: 'git.objects' });
    if (!isOid(oid)) return null;
    const raw = Buffer.from(oid, 'hex');
    let at = this.locate(raw);
    if (at !== null) {
      try {
        return await fromPack(at);
      } catch (err) {
        // The pack was deleted (by a repack) before we first opened it: look again below.
        if (!isMissing(err)) throw err;
      }
    }
    for (const dir of this.dirs) {
      const found = await fromLoose(dir.loose);
      if (found !== null) return found;
    }
    // A push or repack may have added a pack since we last looked.
    await Promise.all(this.dirs.map((d) => d.packs.refresh()));
    at = this.locate(raw);
    if (at !== null) return fromPack(at);
    return null;
  }

  async read(oid: string): Promise<GitObject | null> {
    const found = await this.find(
      oid,
      (at) => this.resolve(at),
      (loose) => loose.read(oid),
    );
    return found ?? (oid === EMPTY_TREE_OID ? EMPTY_TREE : null);
  }

  async header(oid: string): Promise<{ type: ObjectType; size: number } | null> {
    const found = await this.find(
      oid,
      (at) => this.headerAt(at),
      (loose) => loose.header(oid),
    );
    return found ?? (oid === EMPTY_TREE_OID ? { type: 'tree', size: 0 } : null);
  }

  /** An object for a REF_DELTA base that is not in the delta's own pack. */
  private async readBase(oid: Buffer): Promise<GitObject | Location> {
    const at = this.locate(oid);
    if (at !== null) return at;
    const hex = oid.toString('hex');
    for (const dir of this.dirs) {
      const found = await dir.loose.read(hex);
      if (found !== null) return found;
    }
    throw new InternalError(`missing delta base ${hex}`, { op: 'git.objects' });
  }

  private async looseBaseType(oid: string): Promise<ObjectType> {
    for (const dir of this.dirs) {
      const found = await dir.loose.header(oid);
      if (found !== null) return found.type;
    }
    throw new InternalError(`missing delta base ${oid}`, { op: 'git.objects' });
  }

  private resolve(at: Location): Promise<GitObject> {
    const key = keyOf(at.pack, at.offset);
    const cached = this.cache.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    // Concurrent requests often want the same commit or tree; inflate it once.
    let pending = this.inflight.get(key);
    if (pending === undefined) {
      pending = this.resolveChain(at).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  /**
   * Walks the delta chain down to a base that is cached or stored whole, then applies the
   * deltas upwards, caching every intermediate result: those are the bases sibling objects need.
   */
  private async resolveChain(target: Location): Promise<GitObject> {
    const chain: Array<{ key: string; compressed: Buffer; size: number }> = [];
    let at = target;
    let base: GitObject;
    for (;;) {
      const key = keyOf(at.pack, at.offset);
      const hit = chain.length > 0 ? this.cache.get(key) : undefined;
      if (hit !== undefined) {
        base = hit;
        break;
      }
      const { header, compressed } = await at.pack.readEntry(at.offset);
      if (isObjectType(header.kind)) {
        base = { type: header.kind, data: await inflateExactAsync(compressed, header.size) };
        if (chain.length > 0) this.keep(key, base);
        break;
      }
      chain.push({ key, compressed, size: header.size });
      if (chain.length > MAX_CHAIN) throw new InternalError('corrupt pack: delta chain too long', { op: 'git.objects' });
      if (header.baseOffset !== undefined) {
        at = { pack: at.pack, offset: header.baseOffset };
        continue;
      }
      const baseOid = header.baseOid!;
      const sameP = at.pack.index.offsetOf(baseOid);
      if (sameP !== -1) {
        at = { pack: at.pack, offset: sameP };
        continue;
      }
      const found = await this.readBase(baseOid);
      if ('type' in found) {
        base = found;
        break;
      }
      at = found;
    }
    // A long chain over a large file (tens of deltas on a multi-MB blob) takes 100 ms and more
    // of synchronous work: hand the event loop a turn between links, as the walks do.
    const maybeYield = createYielder();
    for (let i = chain.length - 1; i >= 0; i--) {
      const link = chain[i]!;
      await maybeYield();
      const delta = await inflateExactAsync(link.compressed, link.size);
      base = { type: base.type, data: await applyDeltaYielding(base.data, delta, maybeYield) };
      // The target itself is cached unless it is a blob: blobs are read once, for a zip.
      if (i > 0 || base.type !== 'blob') this.keep(link.key, base);
    }
    if (chain.length === 0 && base.type !== 'blob') this.keep(keyOf(target.pack, target.offset), base);
    return base;
  }

  private async headerAt(at: Location): Promise<{ type: ObjectType; size: number }> {
    const cached = this.cache.get(keyOf(at.pack, at.offset));
    if (cached !== undefined) return { type: cached.type, size: cached.data.length };
    const { header, probe } = await at.pack.readHeader(at.offset);
    if (isObjectType(header.kind)) return { type: header.kind, size: header.size };
    const sizes = readDeltaSizes(inflatePrefix(probe));
    if (sizes === undefined) {
      // The probe was too short to reach the delta's header (rare); read the object instead.
      const object = await this.resolve(at);
      return { type: object.type, size: object.data.length };
    }
    return { type: await this.deltaType(at), size: sizes.resultSize };
  }

  /** A delta's type is its chain's base type; only entry headers are read to find it. */
  private async deltaType(target: Location): Promise<ObjectType> {
    const visited: string[] = [];
    let at = target;
    let type: ObjectType | undefined;
    while (type === undefined) {
      const key = keyOf(at.pack, at.offset);
      type = this.types.get(key) ?? this.cache.get(key)?.type;
      if (type !== undefined) break;
      visited.push(key);
      if (visited.length > MAX_CHAIN) throw new InternalError('corrupt pack: delta chain too long', { op: 'git.objects' });
      const { header } = await at.pack.readHeader(at.offset);
      if (isObjectType(header.kind)) {
        type = header.kind;
      } else if (header.baseOffset !== undefined) {
        at = { pack: at.pack, offset: header.baseOffset };
      } else {
        const baseOid = header.baseOid!;
        const sameP = at.pack.index.offsetOf(baseOid);
        if (sameP !== -1) {
          at = { pack: at.pack, offset: sameP };
          continue;
        }
        const elsewhere = this.locate(baseOid);
        if (elsewhere !== null) {
          at = elsewhere;
          continue;
        }
        type = await this.looseBaseType(baseOid.toString('hex'));
      }
    }
    for (const key of visited) this.types.set(key, type);
    return type;
  }

  indexBytes(): number {
    let bytes = 0;
    for (const dir of this.dirs) for (const pack of dir.packs.packs) bytes += pack.index.byteLength;
    return bytes;
  }

  async findByPrefix(prefix: string): Promise<string[]> {
    if (this.closed) throw new InternalError('object store is closed', { op: 'git.objects' });
    if (!/^[0-9a-f]{2,40}$/.test(prefix)) return [];
    await Promise.all(this.dirs.map((d) => d.packs.refresh()));
    const found = new Set<string>();
    for (const dir of this.dirs) {
      for (const pack of dir.packs.packs) for (const oid of pack.index.findByPrefix(prefix)) found.add(oid);
      for (const oid of await dir.loose.findByPrefix(prefix)) found.add(oid);
    }
    return [...found].sort();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cache.clear();
    this.types.clear();
    await Promise.all(this.dirs.map((d) => d.packs.close()));
  }
}
