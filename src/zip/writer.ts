/**
 * A streaming zip writer on node:zlib. jszip deflates with pako on the main thread (about 6 s of
 * blocked event loop per 100 MB, BENCHMARKS.md); here deflate runs off the main
 * thread, in batches on the worker threads of a {@link DeflatePool}, CRC-32 uses the native
 * `zlib.crc32`, and entries are read ahead through a window bounded by count and by bytes, so
 * memory depends on the window, not on the module's size.
 *
 * Layout: for each entry, in order, a local header carrying the final sizes and CRC (no data
 * descriptors, since each entry is compressed before it is written) followed by its data; then
 * the central directory, with Zip64 records when there are 65,535 entries or more, or offsets or
 * sizes that do not fit 32 bits.
 */
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { ConfigError, InternalError, ProxyError } from '../errors.js';
import { createYielder } from '../support/yielder.js';
import { type DeflatePool, sharedDeflatePool } from './deflate-pool.js';

/**
 * One entry of a zip being streamed; its bytes are read only when the writer reaches it. `read`
 * may honour the signal (it is aborted when the zip stream is destroyed), and `size`, when known
 * in advance, lets the writer bound its read-ahead before the bytes arrive.
 */
export interface NativeZipEntry {
  name: string;
  read(signal?: AbortSignal): Promise<Buffer>;
  size?: number;
}

export interface NativeZipOptions {
  /** Called once the last byte is pushed, with the zip's length (for metrics). */
  onEnd?: (bytes: number) => void;
  /** zlib deflate level, 0–9; 0 stores every entry. Defaults to 6 (zlib's and git archive's). */
  level?: number;
  /**
   * Entries read or compressed ahead of the one being written. Defaults to 256, so that the
   * deflate threads always have the next batch waiting; 1024 measured no faster and kept 35 MB
   * more resident.
   */
  concurrency?: number;
  /**
   * Bytes held by entries read ahead (input until compressed, then output until written). One
   * entry is always allowed, however large. Defaults to 8 MiB: enough to keep the deflate threads fed.
   */
  maxBytesInFlight?: number;
  /** Aborting it destroys the stream, as `stream.destroy()` does. */
  signal?: AbortSignal;
  /**
   * Entries smaller than this many bytes are stored without trying deflate: on a few dozen
   * bytes it saves nothing and costs a trip to a deflate thread. Defaults to 64.
   */
  storeThreshold?: number;
  /**
   * Where entries are deflated, in batches on its worker threads (it falls back to the libuv
   * threadpool where worker threads cannot start). Defaults to the process-wide pool.
   */
  deflatePool?: DeflatePool;
}

const DEFAULT_LEVEL = 6;
const DEFAULT_CONCURRENCY = 256;
/** The longest the writer reads entries before it hands the event loop a turn. */
const READ_SLICE_MS = 4;
const DEFAULT_MAX_BYTES_IN_FLIGHT = 8 * 1024 * 1024;
const DEFAULT_STORE_THRESHOLD = 64;

const METHOD_STORE = 0;
const METHOD_DEFLATE = 8;
const FLAG_UTF8 = 0x0800;
/** Go ignores entry times; a fixed one keeps the bytes (and so any ETag) deterministic. */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1; // 1980-01-01
const VERSION_DEFAULT = 20;
const VERSION_ZIP64 = 45;
/** Made by UNIX (3), so unzip restores a sane file mode from the external attributes. */
const MADE_BY_UNIX = 3 << 8;
const EXTERNAL_ATTR_FILE = (0o100644 << 16) >>> 0;
const MAX_U16 = 0xffff;
const MAX_U32 = 0xffffffff;
/** Central directory records pushed per chunk; keeps chunks around 64 KB for typical names. */
const CENTRAL_BATCH = 512;
/**
 * Small entries are gathered into chunks of about this size before they are pushed: one push
 * per header and per small file meant ~2 writes per file downstream (socket or cache file),
 * tens of thousands for a typical module. Entries whose data is at least DIRECT_BYTES are pushed
 * as they are, so big data is never copied.
 */
const COALESCE_BYTES = 64 * 1024;
const DIRECT_BYTES = 16 * 1024;
/** Gathered entries wait at most this long, so a slow next entry does not hold back earlier ones. */
const COALESCE_MS = 20;

interface CentralRecord {
  name: Buffer;
  flags: number;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  offset: number;
}

interface Compressed {
  method: number;
  crc: number;
  size: number;
  data: Buffer;
}

interface Slot {
  entry: NativeZipEntry;
  /** Bytes this slot counts against maxBytesInFlight. */
  bytes: number;
  result: Compressed | null;
}

function isAscii(name: string): boolean {
  return /^[\x00-\x7f]*$/.test(name);
}

function localHeader(name: Buffer, flags: number, c: Compressed): Buffer {
  const zip64 = c.size >= MAX_U32 || c.data.length >= MAX_U32;
  const extraLength = zip64 ? 20 : 0;
  const h = Buffer.allocUnsafe(30 + name.length + extraLength);
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(zip64 ? VERSION_ZIP64 : VERSION_DEFAULT, 4);
  h.writeUInt16LE(flags, 6);
  h.writeUInt16LE(c.method, 8);
  h.writeUInt16LE(DOS_TIME, 10);
  h.writeUInt16LE(DOS_DATE, 12);
  h.writeUInt32LE(c.crc, 14);
  h.writeUInt32LE(zip64 ? MAX_U32 : c.data.length, 18);
  h.writeUInt32LE(zip64 ? MAX_U32 : c.size, 22);
  h.writeUInt16LE(name.length, 26);
  h.writeUInt16LE(extraLength, 28);
  name.copy(h, 30);
  if (zip64) {
    // The local Zip64 extra must hold both sizes, uncompressed first (APPNOTE 4.5.3).
    const at = 30 + name.length;
    h.writeUInt16LE(0x0001, at);
    h.writeUInt16LE(16, at + 2);
    h.writeBigUInt64LE(BigInt(c.size), at + 4);
    h.writeBigUInt64LE(BigInt(c.data.length), at + 12);
  }
  return h;
}

function centralHeader(r: CentralRecord): Buffer {
  // Only the fields that overflow go into the Zip64 extra, in this fixed order (APPNOTE 4.5.3).
  const big: number[] = [];
  if (r.size >= MAX_U32) big.push(r.size);
  if (r.compressedSize >= MAX_U32) big.push(r.compressedSize);
  if (r.offset >= MAX_U32) big.push(r.offset);
  const extraLength = big.length > 0 ? 4 + 8 * big.length : 0;
  const h = Buffer.allocUnsafe(46 + r.name.length + extraLength);
  h.writeUInt32LE(0x02014b50, 0);
  const version = big.length > 0 ? VERSION_ZIP64 : VERSION_DEFAULT;
  h.writeUInt16LE(MADE_BY_UNIX | version, 4);
  h.writeUInt16LE(version, 6);
  h.writeUInt16LE(r.flags, 8);
  h.writeUInt16LE(r.method, 10);
  h.writeUInt16LE(DOS_TIME, 12);
  h.writeUInt16LE(DOS_DATE, 14);
  h.writeUInt32LE(r.crc, 16);
  h.writeUInt32LE(Math.min(r.compressedSize, MAX_U32), 20);
  h.writeUInt32LE(Math.min(r.size, MAX_U32), 24);
  h.writeUInt16LE(r.name.length, 28);
  h.writeUInt16LE(extraLength, 30);
  h.writeUInt16LE(0, 32); // comment length
  h.writeUInt16LE(0, 34); // disk number start
  h.writeUInt16LE(0, 36); // internal attributes
  h.writeUInt32LE(EXTERNAL_ATTR_FILE, 38);
  h.writeUInt32LE(Math.min(r.offset, MAX_U32), 42);
  r.name.copy(h, 46);
  if (big.length > 0) {
    let at = 46 + r.name.length;
    h.writeUInt16LE(0x0001, at);
    h.writeUInt16LE(8 * big.length, at + 2);
    at += 4;
    for (const value of big) {
      h.writeBigUInt64LE(BigInt(value), at);
      at += 8;
    }
  }
  return h;
}

function endRecords(count: number, directorySize: number, directoryOffset: number): Buffer {
  const zip64 = count >= MAX_U16 || directorySize >= MAX_U32 || directoryOffset >= MAX_U32;
  const parts: Buffer[] = [];
  if (zip64) {
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4); // size of the rest of this record
    record.writeUInt16LE(MADE_BY_UNIX | VERSION_ZIP64, 12);
    record.writeUInt16LE(VERSION_ZIP64, 14);
    record.writeUInt32LE(0, 16); // this disk
    record.writeUInt32LE(0, 20); // disk with the central directory
    record.writeBigUInt64LE(BigInt(count), 24);
    record.writeBigUInt64LE(BigInt(count), 32);
    record.writeBigUInt64LE(BigInt(directorySize), 40);
    record.writeBigUInt64LE(BigInt(directoryOffset), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeUInt32LE(0, 4);
    locator.writeBigUInt64LE(BigInt(directoryOffset + directorySize), 8);
    locator.writeUInt32LE(1, 16); // total disks
    parts.push(record, locator);
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Math.min(count, MAX_U16), 8);
  end.writeUInt16LE(Math.min(count, MAX_U16), 10);
  end.writeUInt32LE(Math.min(directorySize, MAX_U32), 12);
  end.writeUInt32LE(Math.min(directoryOffset, MAX_U32), 16);
  parts.push(end);
  return Buffer.concat(parts);
}

function checkOptions(options: NativeZipOptions): Required<Omit<NativeZipOptions, 'signal' | 'deflatePool' | 'onEnd'>> {
  const level = options.level ?? DEFAULT_LEVEL;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const maxBytesInFlight = options.maxBytesInFlight ?? DEFAULT_MAX_BYTES_IN_FLIGHT;
  const storeThreshold = options.storeThreshold ?? DEFAULT_STORE_THRESHOLD;
  if (!Number.isInteger(level) || level < 0 || level > 9) throw new ConfigError(`zip: level must be 0–9, got ${level}`);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new ConfigError(`zip: concurrency must be ≥ 1, got ${concurrency}`);
  if (!(maxBytesInFlight > 0)) throw new ConfigError(`zip: maxBytesInFlight must be > 0, got ${maxBytesInFlight}`);
  if (!(storeThreshold >= 0)) throw new ConfigError(`zip: storeThreshold must be ≥ 0, got ${storeThreshold}`);
  return { level, concurrency, maxBytesInFlight, storeThreshold };
}

/**
 * Streams a zip of `entries`, in order, deflating off the main thread. Destroying the stream, or
 * aborting `options.signal`, cancels pending reads (through the signal passed to `read`) and
 * deflates, and starts nothing new. A failing `read` destroys the stream with an error naming
 * the entry.
 */
export function createNativeZipStream(entries: readonly NativeZipEntry[], options: NativeZipOptions = {}): Readable {
  const { level, concurrency, maxBytesInFlight, storeThreshold } = checkOptions(options);
  const pool = options.deflatePool ?? sharedDeflatePool();
  // Owned here so that destroying the stream can cancel reads and deflates already started.
  const work = new AbortController();
  const window: Slot[] = [];
  const records: CentralRecord[] = [];
  let nextEntry = 0;
  let bytesInFlight = 0;
  let offset = 0;
  let wantData = false;
  let centralIndex = 0;
  let centralStart = -1;
  let finished = false;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let pendingTimer: NodeJS.Timeout | null = null;
  let reading = false;
  const maybeYield = createYielder(READ_SLICE_MS);

  async function compress(slot: Slot, input: Buffer): Promise<Compressed> {
    const crc = zlib.crc32(input);
    if (level === 0 || input.length === 0 || input.length < storeThreshold) {
      return { method: METHOD_STORE, crc, size: input.length, data: input };
    }
    const deflated = await pool.deflate(input, level);
    return deflated !== null && deflated.length < input.length
      ? { method: METHOD_DEFLATE, crc, size: input.length, data: deflated }
      : { method: METHOD_STORE, crc, size: input.length, data: input };
  }

  function fail(entry: NativeZipEntry, err: unknown): void {
    if (work.signal.aborted) return;
    // Keeps a reader's own kind (a missing object is a broken repository, not a 404).
    stream.destroy(
      err instanceof ProxyError ? err : new InternalError(`zip: cannot read entry ${entry.name}`, { cause: err, op: 'zip.read' }),
    );
  }

  function hasRoom(): boolean {
    return nextEntry < entries.length && window.length < concurrency && (window.length === 0 || bytesInFlight < maxBytesInFlight);
  }

  /**
   * Reads entries ahead, one at a time and in order, while the window has room. Reads may be
   * synchronous (page-cached packs), so the loop hands the event loop a turn every slice; a
   * thousand reads started at once would all run in one turn.
   */
  async function readAhead(): Promise<void> {
    while (hasRoom() && !work.signal.aborted) {
      const entry = entries[nextEntry++]!;
      const slot: Slot = { entry, bytes: entry.size ?? 0, result: null };
      bytesInFlight += slot.bytes;
      window.push(slot);
      let input: Buffer;
      try {
        await maybeYield();
        if (work.signal.aborted) return;
        input = await entry.read(work.signal);
      } catch (err) {
        fail(entry, err);
        return;
      }
      if (work.signal.aborted) return;
      // The hint may be missing or wrong; from here on count what is really held.
      bytesInFlight += input.length - slot.bytes;
      slot.bytes = input.length;
      compress(slot, input).then(
        (result) => {
          if (work.signal.aborted) return;
          bytesInFlight += result.data.length - slot.bytes;
          slot.bytes = result.data.length;
          slot.result = result;
          pump();
        },
        (err: unknown) => fail(entry, err),
      );
    }
  }

  function fill(): void {
    if (reading || !hasRoom()) return;
    reading = true;
    void readAhead().finally(() => {
      reading = false;
      // Room may have opened while the last read was in progress.
      if (hasRoom() && !work.signal.aborted && !stream.destroyed) fill();
    });
  }

  function pushCentral(): void {
    if (centralStart < 0) centralStart = offset;
    while (wantData && centralIndex < records.length) {
      const batch: Buffer[] = [];
      const end = Math.min(records.length, centralIndex + CENTRAL_BATCH);
      for (; centralIndex < end; centralIndex++) batch.push(centralHeader(records[centralIndex]!));
      const chunk = Buffer.concat(batch);
      offset += chunk.length;
      wantData = stream.push(chunk);
    }
    if (centralIndex < records.length) return;
    finished = true;
    const tail = endRecords(records.length, offset - centralStart, centralStart);
    stream.push(tail);
    stream.push(null);
    options.onEnd?.(offset + tail.length);
  }

  function pump(): void {
    if (finished || stream.destroyed) return;
    fill();
    while (wantData && window[0]?.result) {
      const slot = window.shift()!;
      const result = slot.result!;
      const name = Buffer.from(slot.entry.name, 'utf8');
      const flags = isAscii(slot.entry.name) ? 0 : FLAG_UTF8;
      records.push({ name, flags, method: result.method, crc: result.crc, compressedSize: result.data.length, size: result.size, offset });
      const header = localHeader(name, flags, result);
      offset += header.length + result.data.length;
      pending.push(header);
      pendingBytes += header.length;
      if (result.data.length >= DIRECT_BYTES) {
        flushPending();
        wantData = stream.push(result.data);
      } else {
        // Empty data is skipped: an empty push would only confuse the readable's bookkeeping.
        if (result.data.length > 0) pending.push(result.data);
        pendingBytes += result.data.length;
        if (pendingBytes >= COALESCE_BYTES) wantData = flushPending();
        else pendingTimer ??= setTimeout(flushLate, COALESCE_MS);
      }
      bytesInFlight -= slot.bytes;
      fill();
    }
    if (wantData && window.length === 0 && nextEntry === entries.length) {
      wantData = flushPending();
      pushCentral();
    }
  }

  function flushLate(): void {
    pendingTimer = null;
    if (finished || stream.destroyed) return;
    wantData = flushPending();
    pump();
  }

  /** Pushes the gathered small entries; returns what push returned (true when there was nothing). */
  function flushPending(): boolean {
    if (pendingTimer) {
      clearTimeout(pendingTimer);
      pendingTimer = null;
    }
    if (pendingBytes === 0) return wantData;
    const chunk = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    return stream.push(chunk);
  }

  const stream = new Readable({
    // Read-ahead is the window's job; a small buffer here keeps the two from stacking up.
    highWaterMark: 64 * 1024,
    read() {
      wantData = true;
      pump();
    },
    destroy(err, callback) {
      const reason = err ?? new DOMException('zip stream destroyed', 'AbortError');
      work.abort(reason);
      window.length = 0;
      bytesInFlight = 0;
      pending = [];
      pendingBytes = 0;
      if (pendingTimer) clearTimeout(pendingTimer);
      callback(err);
    },
  });

  if (options.signal) {
    const signal = options.signal;
    if (signal.aborted) {
      stream.destroy(signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError'));
    } else {
      const onAbort = (): void => {
        stream.destroy(signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      stream.once('close', () => signal.removeEventListener('abort', onAbort));
    }
  }
  return stream;
}
