import { readSync } from 'node:fs';
import { type FileHandle, open, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { inflate, inflateSync, constants as zlibConstants } from 'node:zlib';
import { InternalError } from '../errors.js';
import { PackIndex } from './pack-index.js';
import type { ObjectType } from './types.js';

/**
 * One `.pack` with its `.idx`, read with positioned reads through a FileHandle. The pack is never
 * loaded whole: a large repository's pack can be gigabytes, and Node refuses files over 2 GiB.
 */

export type PackEntryKind = ObjectType | 'ofs-delta' | 'ref-delta';

const KINDS: Record<number, PackEntryKind | undefined> = {
  1: 'commit',
  2: 'tree',
  3: 'blob',
  4: 'tag',
  6: 'ofs-delta',
  7: 'ref-delta',
};

export interface PackEntryHeader {
  kind: PackEntryKind;
  /** Inflated size of the entry's data; for a delta, the size of the delta itself. */
  size: number;
  /** Absolute pack offset where the zlib stream starts. */
  dataStart: number;
  /** OFS_DELTA: absolute offset of the base entry in the same pack. */
  baseOffset?: number;
  /** REF_DELTA: the base's object id (it may live in another pack, or be loose). */
  baseOid?: Buffer;
}

const TRAILER_BYTES = 20;
/** Longest possible entry header: a 10-byte size varint plus a 20-byte REF_DELTA id. */
const MAX_HEADER_BYTES = 32;
/** Compressed bytes read for header-only lookups: enough for a delta's two size varints. */
const PROBE_BYTES = 512;

function corrupt(what: string): InternalError {
  return new InternalError(`corrupt pack: ${what}`, { op: 'git.pack' });
}

/** Parses the entry header in `buf`, which holds the pack bytes starting at `offset`. */
export function parseEntryHeader(buf: Buffer, offset: number): PackEntryHeader {
  let pos = 0;
  let byte = buf[pos++];
  if (byte === undefined) throw corrupt('entry beyond end');
  const kind = KINDS[(byte >> 4) & 7];
  if (kind === undefined) throw corrupt('unknown entry type');
  let size = byte & 0x0f;
  let scale = 16;
  while (byte & 0x80) {
    byte = buf[pos++];
    if (byte === undefined || scale > 2 ** 53) throw corrupt('bad entry size');
    size += (byte & 0x7f) * scale;
    scale *= 128;
  }
  if (kind === 'ofs-delta') {
    byte = buf[pos++];
    if (byte === undefined) throw corrupt('bad delta offset');
    let distance = byte & 0x7f;
    while (byte & 0x80) {
      byte = buf[pos++];
      if (byte === undefined || distance > 2 ** 45) throw corrupt('bad delta offset');
      distance = (distance + 1) * 128 + (byte & 0x7f);
    }
    if (distance <= 0 || distance > offset) throw corrupt('bad delta offset');
    return { kind, size, dataStart: offset + pos, baseOffset: offset - distance };
  }
  if (kind === 'ref-delta') {
    if (pos + 20 > buf.length) throw corrupt('bad delta base');
    return { kind, size, dataStart: offset + pos + 20, baseOid: Buffer.from(buf.subarray(pos, pos + 20)) };
  }
  return { kind, size, dataStart: offset + pos };
}

/**
 * zlib's output buffer, sized to the object: one allocation of the right size instead of 16 KiB
 * chunks, then a copy to join them (measured: a third of a cold zip's GC time on terraform).
 * One byte more than the object, so zlib sees its stream end without asking for another chunk;
 * capped, so a corrupt header cannot ask for gigabytes at once.
 */
function exactChunk(size: number): { chunkSize: number } {
  return { chunkSize: Math.min(Math.max(64, size + 1), 64 * 1024 * 1024) };
}

/** Inflates a zlib stream that must produce exactly `size` bytes. */
export function inflateExact(compressed: Buffer, size: number): Buffer {
  let out: Buffer;
  try {
    out = inflateSync(compressed, exactChunk(size));
  } catch (err) {
    throw new InternalError('corrupt pack: bad zlib stream', { cause: err, op: 'git.pack' });
  }
  if (out.length !== size) throw corrupt('inflated size mismatch');
  return out;
}

/**
 * Compressed sizes from which reads and inflates go to the libuv threadpool: from ~10 ms of work
 * up, a round trip is cheap and the event loop stays free.
 */
export const THREADPOOL_BYTES = 256 * 1024;
const inflateInThreadpool = promisify(inflate);

/** {@link inflateExact}, in the threadpool when the object is large. */
export async function inflateExactAsync(compressed: Buffer, size: number): Promise<Buffer> {
  if (compressed.length < THREADPOOL_BYTES) return inflateExact(compressed, size);
  let out: Buffer;
  try {
    out = await inflateInThreadpool(compressed, exactChunk(size));
  } catch (err) {
    throw new InternalError('corrupt pack: bad zlib stream', { cause: err, op: 'git.pack' });
  }
  if (out.length !== size) throw corrupt('inflated size mismatch');
  return out;
}

/** Inflates as much of a (possibly truncated) zlib stream as `compressed` holds. */
export function inflatePrefix(compressed: Buffer): Buffer {
  try {
    // Z_SYNC_FLUSH makes a truncated stream return what it has instead of failing.
    return inflateSync(compressed, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  } catch (err) {
    throw new InternalError('corrupt object: bad zlib stream', { cause: err, op: 'git.pack' });
  }
}

let nextPackId = 1;

export class PackFile {
  /** Distinguishes packs in shared caches keyed by offset. */
  readonly id = nextPackId++;
  private handle: Promise<{ fh: FileHandle; end: number }> | undefined;

  private constructor(
    readonly name: string,
    private readonly packPath: string,
    readonly index: PackIndex,
  ) {}

  /** Loads the index now; the `.pack` is opened on first read. */
  static async load(name: string, idxPath: string, packPath: string): Promise<PackFile> {
    // git writes a reverse index beside the pack (pack.writeReverseIndex, on by default since
    // 2.41); it spares sorting every offset on first use.
    const rev = await readFile(`${packPath.slice(0, -'.pack'.length)}.rev`).catch(() => null);
    return new PackFile(name, packPath, new PackIndex(await readFile(idxPath), rev));
  }

  private openHandle(): Promise<{ fh: FileHandle; end: number }> {
    this.handle ??= (async () => {
      const fh = await open(this.packPath, 'r');
      try {
        const { size } = await fh.stat();
        const head = Buffer.alloc(12);
        await fh.read(head, 0, 12, 0);
        const version = head.readUInt32BE(4);
        if (head.toString('latin1', 0, 4) !== 'PACK' || (version !== 2 && version !== 3)) throw corrupt('bad header');
        if (head.readUInt32BE(8) !== this.index.count) throw corrupt('object count differs from index');
        if (size < 12 + TRAILER_BYTES) throw corrupt('truncated');
        const trailer = Buffer.alloc(TRAILER_BYTES);
        await fh.read(trailer, 0, TRAILER_BYTES, size - TRAILER_BYTES);
        // An index written for another pack would send every lookup to the wrong bytes.
        if (!trailer.equals(this.index.packChecksum())) throw corrupt('index does not match pack');
        return { fh, end: size - TRAILER_BYTES };
      } catch (err) {
        await fh.close();
        throw err;
      }
    })();
    // A failed open is not cached, so a later read can retry.
    this.handle.catch(() => {
      this.handle = undefined;
    });
    return this.handle;
  }

  /**
   * Reads up to `length` bytes at `position`, never past the trailer. The read itself is a
   * synchronous pread: packs are normally in the page cache, where a pread takes microseconds,
   * while an async read is a libuv threadpool round trip that queues behind zlib and other fs
   * work; measured, async reads doubled the CPU time of reading every object of a repository.
   * Object reading is synchronous CPU work anyway (inflate, delta apply), meant to run off the
   * main thread when it is heavy.
   */
  private async read(position: number, length: number): Promise<Buffer> {
    const { fh, end } = await this.openHandle();
    const wanted = Math.max(0, Math.min(length, end - position));
    const buf = Buffer.allocUnsafe(wanted);
    let done = 0;
    while (done < wanted) {
      // A large entry (a big blob on a cold disk) is read in the threadpool, like its inflate.
      const bytesRead =
        wanted < THREADPOOL_BYTES
          ? readSync(fh.fd, buf, done, wanted - done, position + done)
          : (await fh.read(buf, done, wanted - done, position + done)).bytesRead;
      if (bytesRead === 0) throw corrupt('truncated');
      done += bytesRead;
    }
    return buf;
  }

  private async end(): Promise<number> {
    return (await this.openHandle()).end;
  }

  /** The entry header plus a prefix of its compressed data (for size-only lookups). */
  async readHeader(offset: number): Promise<{ header: PackEntryHeader; probe: Buffer }> {
    const buf = await this.read(offset, MAX_HEADER_BYTES + PROBE_BYTES);
    const header = parseEntryHeader(buf, offset);
    return { header, probe: buf.subarray(header.dataStart - offset) };
  }

  /** The entry header and its whole compressed data, in one read. */
  async readEntry(offset: number): Promise<{ header: PackEntryHeader; compressed: Buffer }> {
    const entryEnd = this.index.entryEnd(offset, await this.end());
    const buf = await this.read(offset, entryEnd - offset);
    const header = parseEntryHeader(buf, offset);
    return { header, compressed: buf.subarray(header.dataStart - offset) };
  }

  /**
   * Closes the file, at once or after `graceMs`. A pack deleted by a repack stays readable
   * through its open descriptor, so a grace period lets reads that already found an object in
   * this pack (a delta chain takes several reads) finish instead of failing.
   */
  retire(graceMs = 0): Promise<void> {
    if (graceMs <= 0) return this.closeHandle();
    setTimeout(() => void this.closeHandle(), graceMs).unref();
    return Promise.resolve();
  }

  private async closeHandle(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    if (handle === undefined) return;
    try {
      await (await handle).fh.close();
    } catch {
      // Nothing to release when the open itself failed.
    }
  }
}
