import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BrokenRepositoryError } from '../errors.js';
import { coalesce } from '../support/coalesce.js';
import { isMissing, RACY_MS } from '../support/fs-errors.js';
import { PackFile } from './pack-file.js';

/**
 * The packs in one `objects/pack` directory. New packs appear after a push and old ones vanish
 * after a repack; a rescan costs one stat when nothing changed (adding or removing a file changes
 * the directory's mtime), so callers may ask for one whenever an object is not found.
 */

/** How long a pack that disappeared stays open for reads already under way. */
const RETIRE_GRACE_MS = 30_000;

export class PackDirectory {
  private list: PackFile[] = [];
  private stamp = '';
  private closed = false;
  /** Packs that disappeared but may still be open; closed for good by close(). */
  private readonly retired = new Set<PackFile>();

  constructor(private readonly dir: string) {}

  get packs(): readonly PackFile[] {
    return this.list;
  }

  /** Brings the pack list up to date; concurrent callers share scans (see coalesce). */
  readonly refresh: () => Promise<void> = coalesce(() => this.scan());

  private async scan(): Promise<void> {
    if (this.closed) return;
    let stamp: string;
    let names: string[];
    try {
      const st = await stat(this.dir, { bigint: true });
      stamp = `${st.ino}:${st.mtimeNs}:${st.ctimeNs}`;
      if (stamp === this.stamp) return;
      // Racy: a pack added in the same tick as this scan would leave the stamp unchanged.
      if (Date.now() - Number(st.mtimeMs) < RACY_MS) stamp = '';
      names = await readdir(this.dir);
    } catch (err) {
      if (!isMissing(err)) throw err;
      stamp = 'missing';
      names = [];
    }
    const present = new Set(names);
    // git renames the .pack into place before the .idx, so an .idx means the pack is complete.
    const wanted = names
      .filter((n) => n.endsWith('.idx') && present.has(`${n.slice(0, -4)}.pack`))
      .map((n) => n.slice(0, -4))
      .sort();
    const known = new Map(this.list.map((p) => [p.name, p]));
    let failed = false;
    const loaded = await Promise.all(
      wanted.map(async (name) => {
        const existing = known.get(name);
        if (existing !== undefined) return existing;
        try {
          return await PackFile.load(name, join(this.dir, `${name}.idx`), join(this.dir, `${name}.pack`));
        } catch (err) {
          // git renames a finished .idx into place: one that fails its checksum is damage, and
          // skipping it would read its objects as missing (or @latest as another commit).
          if (err instanceof BrokenRepositoryError) throw err;
          // Unreadable (or it was just deleted): skip it and look again next time.
          failed = true;
          return undefined;
        }
      }),
    );
    if (this.closed) {
      await Promise.all(loaded.map((p) => (p !== undefined && !known.has(p.name) ? p.retire() : undefined)));
      return;
    }
    const packs = loaded.filter((p): p is PackFile => p !== undefined);
    const keep = new Set(packs);
    const removed = this.list.filter((p) => !keep.has(p));
    // Biggest first: most lookups hit the main pack, and misses scan every pack anyway.
    this.list = packs.sort((a, b) => b.index.count - a.index.count);
    this.stamp = failed ? '' : stamp;
    for (const pack of removed) {
      this.retired.add(pack);
      await pack.retire(RETIRE_GRACE_MS);
      setTimeout(() => this.retired.delete(pack), RETIRE_GRACE_MS).unref();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    // A scan finishing after this sees `closed` and releases what it opened.
    const packs = [...this.list, ...this.retired];
    this.list = [];
    this.retired.clear();
    await Promise.all(packs.map((p) => p.retire()));
  }
}
