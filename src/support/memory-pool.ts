/**
 * One memory budget for many caches. Each cache a repository or service keeps is a view on the
 * pool; the views share one least-recently-used order and one byte bound, so a process serving
 * thousands of projects holds at most `maxBytes` of cached data whatever it was asked for. A
 * view's entries are dropped together when its owner closes.
 *
 * Costs are bytes: buffers by their real allocation (see owned-buffer.ts), structures by an
 * estimate each view states beside its cost function.
 */
export class MemoryPool {
  private readonly entries = new Map<string, { value: unknown; cost: number; view: PoolCache<unknown> }>();
  private total = 0;
  private reservedBytes = 0;
  private nextView = 1;

  constructor(readonly maxBytes: number) {}

  /** A new, empty cache on this pool; `costOf` gives an entry's bytes. */
  cache<V>(costOf: (value: V) => number): PoolCache<V> {
    return new PoolCache<V>(this, `${this.nextView++}\0`, costOf);
  }

  /** Bytes held by every view together, and reserved. */
  get bytes(): number {
    return this.total + this.reservedBytes;
  }

  /** Bytes held outside the caches and counted here (pack indexes of open repositories). */
  get reserved(): number {
    return this.reservedBytes;
  }

  /**
   * Counts `bytes` that something else holds (and cannot give back on demand) against the bound:
   * cached entries make room for them. Returns the release, safe to call once.
   */
  reserve(bytes: number): () => void {
    this.reservedBytes += bytes;
    this.fit();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.reservedBytes -= bytes;
    };
  }

  private fit(): void {
    for (const [oldest, entry] of this.entries) {
      if (this.total + this.reservedBytes <= this.maxBytes) break;
      this.drop(oldest, entry);
    }
  }

  /** Entries held by every view together. */
  get size(): number {
    return this.entries.size;
  }

  /** @internal */
  get<V>(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value as V;
  }

  /** @internal */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** @internal Stores the value unless it alone would exceed the bound; evicts the least recently used. */
  set(key: string, value: unknown, cost: number, view: PoolCache<unknown>): void {
    this.delete(key);
    if (cost + this.reservedBytes > this.maxBytes) return;
    this.entries.set(key, { value, cost, view });
    view.keys.add(key);
    this.total += cost;
    this.fit();
  }

  /** @internal */
  delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry !== undefined) this.drop(key, entry);
  }

  private drop(key: string, entry: { cost: number; view: PoolCache<unknown> }): void {
    this.entries.delete(key);
    entry.view.keys.delete(key);
    this.total -= entry.cost;
  }
}

/** A view on a {@link MemoryPool}: a string-keyed cache whose bytes count against the pool. */
export class PoolCache<V> {
  /** @internal The pool keys of this view's entries. */
  readonly keys = new Set<string>();

  constructor(
    private readonly pool: MemoryPool,
    private readonly prefix: string,
    private readonly costOf: (value: V) => number,
  ) {}

  get(key: string): V | undefined {
    return this.pool.get<V>(this.prefix + key);
  }

  has(key: string): boolean {
    return this.pool.has(this.prefix + key);
  }

  set(key: string, value: V): void {
    this.pool.set(this.prefix + key, value, this.costOf(value), this as PoolCache<unknown>);
  }

  delete(key: string): void {
    this.pool.delete(this.prefix + key);
  }

  /** Drops every entry of this view (its owner closed). */
  clear(): void {
    for (const key of [...this.keys]) this.pool.delete(key);
  }

  /** Whether anything can be kept at all (a pool of 0 bytes keeps nothing). */
  get enabled(): boolean {
    return this.pool.maxBytes > 0;
  }

  get size(): number {
    return this.keys.size;
  }
}

/** Estimated bytes of a 40-hex object id held as a JavaScript string, with its slot in a collection. */
export const OID_STRING_BYTES = 80;
