import { createHash } from 'node:crypto';
import { BrokenRepositoryError, InternalError } from '../errors.js';

/**
 * A pack `.idx` (version 2, or the old version 1) kept as the raw file Buffer and searched in
 * place. Parsing it into strings and a Map, as isomorphic-git does, costs hundreds of ms and tens
 * of MB on large repositories; a binary search over the sorted names costs nothing up front.
 */

const V2_MAGIC = 0xff744f63; // "\377tOc"
const FANOUT_BYTES = 256 * 4;
const OID_BYTES = 20;
const REV_MAGIC = 0x52494458; // "RIDX"
/** Magic, version, hash id. */
const REV_HEADER_BYTES = 12;

export class PackIndex {
  readonly count: number;
  private readonly version: 1 | 2;
  private readonly fanoutStart: number;
  private readonly namesStart: number;
  /** Distance between consecutive names: 20 in v2, 24 in v1 (offset + name records). */
  private readonly nameStride: number;
  private readonly offsetsStart: number;
  private readonly largeOffsetsStart: number;
  private sorted: Float64Array | undefined;
  private readonly rev: Buffer | null;

  /**
   * `rev` is the pack's `.rev` file (git's reverse index: index positions in pack order), when
   * there is one; a missing, damaged or foreign one is ignored and the offsets are sorted instead.
   */
  constructor(
    private readonly buf: Buffer,
    rev?: Buffer | null,
  ) {
    if (buf.length >= 8 && buf.readUInt32BE(0) === V2_MAGIC) {
      const version = buf.readUInt32BE(4);
      if (version !== 2) throw new InternalError(`unsupported pack index version ${version}`, { op: 'git.pack-index' });
      this.version = 2;
      this.fanoutStart = 8;
    } else {
      this.version = 1;
      this.fanoutStart = 0;
    }
    if (buf.length < this.fanoutStart + FANOUT_BYTES + 2 * OID_BYTES)
      throw new InternalError('truncated pack index', { op: 'git.pack-index' });
    this.count = buf.readUInt32BE(this.fanoutStart + 255 * 4);
    const afterFanout = this.fanoutStart + FANOUT_BYTES;
    if (this.version === 2) {
      this.namesStart = afterFanout;
      this.nameStride = OID_BYTES;
      this.offsetsStart = afterFanout + this.count * (OID_BYTES + 4);
      this.largeOffsetsStart = this.offsetsStart + this.count * 4;
      if (buf.length < this.largeOffsetsStart + 2 * OID_BYTES) throw new InternalError('truncated pack index', { op: 'git.pack-index' });
    } else {
      this.namesStart = afterFanout + 4;
      this.nameStride = OID_BYTES + 4;
      this.offsetsStart = afterFanout;
      this.largeOffsetsStart = -1;
      if (buf.length < afterFanout + this.count * this.nameStride + 2 * OID_BYTES) {
        throw new InternalError('truncated pack index', { op: 'git.pack-index' });
      }
    }
    // The trailer's last 20 bytes are the SHA-1 of everything before them (git's index-pack
    // writes it, `git verify-pack` checks it). A flipped byte in the names or offsets would
    // otherwise find another object, or none, and change what is served without a word.
    const body = buf.subarray(0, buf.length - OID_BYTES);
    if (
      !createHash('sha1')
        .update(body)
        .digest()
        .equals(buf.subarray(buf.length - OID_BYTES))
    )
      throw new BrokenRepositoryError('corrupt-index', { op: 'git.pack-index' });
    this.rev = rev ? this.checkRev(rev) : null;
  }

  /** Number of entries whose first byte is below `byte` (0–256). */
  private fanout(byte: number): number {
    return byte === 0 ? 0 : this.buf.readUInt32BE(this.fanoutStart + (byte - 1) * 4);
  }

  private compareAt(i: number, oid: Buffer): number {
    const start = this.namesStart + i * this.nameStride;
    return this.buf.compare(oid, 0, OID_BYTES, start, start + OID_BYTES);
  }

  /** Position of a 20-byte object id in the index, or -1. */
  find(oid: Buffer): number {
    let lo = this.fanout(oid[0]!);
    let hi = this.fanout(oid[0]! + 1);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const cmp = this.compareAt(mid, oid);
      if (cmp === 0) return mid;
      if (cmp < 0) lo = mid + 1;
      else hi = mid;
    }
    return -1;
  }

  oidAt(i: number): string {
    const start = this.namesStart + i * this.nameStride;
    return this.buf.toString('hex', start, start + OID_BYTES);
  }

  /** Byte offset of entry `i` in the pack. Numbers are exact up to 2^53, far beyond any pack. */
  offsetAt(i: number): number {
    if (this.version === 1) return this.buf.readUInt32BE(this.offsetsStart + i * (OID_BYTES + 4));
    const small = this.buf.readUInt32BE(this.offsetsStart + i * 4);
    if ((small & 0x80000000) === 0) return small;
    const at = this.largeOffsetsStart + (small & 0x7fffffff) * 8;
    if (at + 8 > this.buf.length - 2 * OID_BYTES) throw new InternalError('corrupt pack index large offset', { op: 'git.pack-index' });
    return Number(this.buf.readBigUInt64BE(at));
  }

  /** Offset of the object, or -1 when the pack does not hold it. */
  offsetOf(oid: Buffer): number {
    const i = this.find(oid);
    return i === -1 ? -1 : this.offsetAt(i);
  }

  /** The checksum of the pack this index describes (the trailer's first 20 bytes). */
  packChecksum(): Buffer {
    return this.buf.subarray(this.buf.length - 2 * OID_BYTES, this.buf.length - OID_BYTES);
  }

  /** Full ids starting with the lower-case hex `prefix` (1–40 characters). */
  findByPrefix(prefix: string): string[] {
    // Search for the smallest id >= prefix padded with zeros, then walk while the prefix matches.
    const low = Buffer.from(prefix.padEnd(40, '0'), 'hex');
    const first = low[0]!;
    let lo = this.fanout(first);
    let hi = this.fanout(first + 1);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compareAt(mid, low) < 0) lo = mid + 1;
      else hi = mid;
    }
    const found: string[] = [];
    for (let i = lo; i < this.count; i++) {
      const hex = this.oidAt(i);
      if (!hex.startsWith(prefix)) break;
      found.push(hex);
    }
    return found;
  }

  /**
   * The offset where the entry at `offset` ends: the next entry's offset, or `packEnd` for the
   * last one. Pack entries do not record their compressed length, so we learn it from the
   * offsets of all entries, sorted once on first use (tens of ms for half a million objects).
   */
  entryEnd(offset: number, packEnd: number): number {
    if (this.rev) return this.entryEndByRev(offset, packEnd);
    const sorted = (this.sorted ??= this.sortOffsets());
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo < sorted.length ? sorted[lo]! : packEnd;
  }

  /** The same, through git's reverse index: no sort, and 4 bytes an object instead of 8. */
  private entryEndByRev(offset: number, packEnd: number): number {
    const rev = this.rev!;
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.offsetAt(rev.readUInt32BE(REV_HEADER_BYTES + 4 * mid)) <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.count ? this.offsetAt(rev.readUInt32BE(REV_HEADER_BYTES + 4 * lo)) : packEnd;
  }

  /** The reverse index if it fits this index: magic, version 1, SHA-1, one entry per object, and the same pack. */
  private checkRev(rev: Buffer): Buffer | null {
    if (rev.length !== REV_HEADER_BYTES + 4 * this.count + 2 * OID_BYTES) return null;
    if (rev.readUInt32BE(0) !== REV_MAGIC || rev.readUInt32BE(4) !== 1 || rev.readUInt32BE(8) !== 1) return null;
    const packSum = rev.subarray(rev.length - 2 * OID_BYTES, rev.length - OID_BYTES);
    return packSum.equals(this.packChecksum()) ? rev : null;
  }

  private sortOffsets(): Float64Array {
    const offsets = new Float64Array(this.count);
    for (let i = 0; i < this.count; i++) offsets[i] = this.offsetAt(i);
    return offsets.sort();
  }

  /** Bytes this index holds in memory: the `.idx` file, and the reverse index or the sorted offsets. */
  get byteLength(): number {
    return this.buf.length + (this.rev?.length ?? 0) + (this.sorted ? this.sorted.byteLength : 0);
  }
}
