/**
 * A least-recently-used map bounded by a total cost (bytes for objects, 1 for plain counting).
 * Map iteration order is insertion order, so re-inserting on access keeps the oldest first.
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, { value: V; cost: number }>();
  private total = 0;

  constructor(
    readonly maxCost: number,
    private readonly costOf: (value: V) => number = () => 1,
  ) {}

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** Stores the value unless it alone would exceed the bound. */
  set(key: K, value: V): void {
    const cost = this.costOf(value);
    this.delete(key);
    if (cost > this.maxCost) return;
    this.entries.set(key, { value, cost });
    this.total += cost;
    for (const [oldest, entry] of this.entries) {
      if (this.total <= this.maxCost) break;
      this.entries.delete(oldest);
      this.total -= entry.cost;
    }
  }

  delete(key: K): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.total -= entry.cost;
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
  }

  get size(): number {
    return this.entries.size;
  }

  get cost(): number {
    return this.total;
  }
}
