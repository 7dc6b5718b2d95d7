import { EventEmitter, once } from 'node:events';
import { type FileHandle, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { errorLogFields, InternalError, ProxyError, toProxyError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { isMissing } from '../support/fs-errors.js';
import {
  finishedName,
  isUnwritableDiskError,
  parseFinishedName,
  RunningSum,
  STALE_TMP_MS,
  syncDirectoryOf,
  temporaryName,
} from './cache-integrity.js';

/**
 * On-disk cache of module zips. A zip is immutable for its key (commit, module path, version,
 * writer), so a finished file is served as is, with its length. A missing zip is built once,
 * however many clients ask at the same time: the build writes a temporary file and every client
 * reads that file as it grows, so the first bytes go out while the rest is still being
 * compressed. When every client has gone away the build is aborted.
 *
 * The cache never lies: a finished file's name holds its length and SHA-256 (cache-integrity.ts).
 * The length is checked when the file is opened (a wrong one is removed and rebuilt before any
 * byte goes out) and the checksum while it streams, the last chunk held back until it matches: a
 * bit-flipped file cuts its download short of the end, is removed and is rebuilt by the next
 * request. A file removed from outside (an operator, a replica's eviction) is rebuilt. Zips are
 * deterministic, so a rebuild has the length already promised. Several processes may share the
 * folder: temporary names are unique, and only their owner (or age) removes them. A folder that
 * cannot be written (read-only, full, wrong permissions) makes the cache serve without caching
 * for a while, with one log line, and try again later.
 */

export interface ZipCacheOptions {
  dir: string;
  /** Total size the cache may reach, builds in flight included, before the least recently used zips are deleted. */
  maxBytes: number;
  logger?: Logger;
  /** How long an unwritable folder is left alone before the cache tries to write again. */
  retryWritesAfterMs?: number;
}

interface Entry {
  size: number;
  sum: string;
  lastUsed: number;
}

class Flight extends EventEmitter {
  /** Settles once the temporary file exists (or the build failed before that). */
  opened: Promise<void> = Promise.resolve();
  written = 0;
  done = false;
  error: Error | null = null;
  /** The failure was the disk's (not the build's): readers carry on from a build of their own. */
  diskFailed = false;
  readers = 0;
  readonly abort = new AbortController();
  constructor(readonly tmpPath: string) {
    super();
    this.setMaxListeners(0);
  }
}

const CHUNK = 256 * 1024;
const RETRY_WRITES_MS = 30_000;

type Build = (signal: AbortSignal) => Readable;

export class ZipCache {
  private readonly index = new Map<string, Entry>();
  private readonly flights = new Map<string, Flight>();
  /** Finished files in the index plus the bytes builds in flight have written so far. */
  private total = 0;
  private readonly logger: Logger;
  private ready: Promise<void> | null = null;
  private evicting = false;
  /** While set, nothing is written: the folder refused a write; the errno it gave. */
  private unwritable: { until: number; errno: string } | null = null;

  constructor(private readonly options: ZipCacheOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  private bucketFor(key: string): string {
    return join(this.options.dir, 'zips', key.slice(0, 2));
  }

  private pathFor(key: string, entry: { size: number; sum: string }): string {
    return join(this.bucketFor(key), finishedName({ key, size: entry.size, sum: entry.sum }));
  }

  /** Scans what earlier runs (or other processes) left; oldest modification time is evicted first. */
  init(): Promise<void> {
    this.ready ??= (async () => {
      const root = join(this.options.dir, 'zips');
      try {
        await mkdir(root, { recursive: true });
      } catch (err) {
        this.markUnwritable(err);
        return;
      }
      for (const sub of await readdir(root).catch(() => [])) {
        let names: string[];
        try {
          names = await readdir(join(root, sub));
        } catch {
          continue;
        }
        for (const name of names) {
          const file = join(root, sub, name);
          const st = await stat(file).catch(() => null);
          if (!st) continue;
          if (name.endsWith('.tmp')) {
            // Another process's build in progress is fresh; only a dead one's is old.
            if (Date.now() - st.mtimeMs > STALE_TMP_MS) await rm(file, { force: true }).catch(() => undefined);
            continue;
          }
          const facts = parseFinishedName(name);
          if (!facts) {
            // A zip from before names carried a checksum cannot be verified: build it again.
            if (name.endsWith('.zip')) await rm(file, { force: true }).catch(() => undefined);
            continue;
          }
          if (st.size !== facts.size) {
            await rm(file, { force: true }).catch(() => undefined);
            continue;
          }
          this.add(facts.key, { size: facts.size, sum: facts.sum, lastUsed: st.mtimeMs });
        }
      }
      await this.evict();
    })();
    return this.ready;
  }

  private add(key: string, entry: Entry): void {
    const old = this.index.get(key);
    if (old) this.total -= old.size;
    this.index.set(key, entry);
    this.total += entry.size;
  }

  private drop(key: string): Entry | undefined {
    const entry = this.index.get(key);
    if (entry) {
      this.index.delete(key);
      this.total -= entry.size;
    }
    return entry;
  }

  /** A cached file that does not match its name: removed, so the next request builds it again. */
  private async discard(key: string, entry: Entry, reason: 'length' | 'checksum'): Promise<void> {
    if (this.index.get(key) === entry) this.drop(key);
    this.logger.error({ op: 'zip-cache', reason }, 'cached zip is damaged; removed, it will be rebuilt');
    await rm(this.pathFor(key, entry), { force: true }).catch(() => undefined);
  }

  /**
   * The size of a finished zip, or null when it is not cached (or its file is gone or damaged).
   * Looks on disk too, for a zip another process sharing the folder has built.
   */
  async lookup(key: string): Promise<number | null> {
    await this.init();
    const entry = this.index.get(key);
    if (entry) {
      const st = await stat(this.pathFor(key, entry)).catch(() => null);
      if (st && st.size === entry.size) return entry.size;
      if (!st) this.drop(key);
      else await this.discard(key, entry, 'length');
      return null;
    }
    const names = await readdir(this.bucketFor(key)).catch(() => [] as string[]);
    for (const name of names) {
      if (!name.startsWith(`${key}-`)) continue;
      const facts = parseFinishedName(name);
      if (!facts || facts.key !== key) continue;
      const st = await stat(join(this.bucketFor(key), name)).catch(() => null);
      if (!st) continue;
      const found = { size: facts.size, sum: facts.sum, lastUsed: Date.now() };
      if (st.size !== facts.size) {
        await this.discard(key, found, 'length');
        continue;
      }
      this.add(key, found);
      await this.evict();
      return facts.size;
    }
    return null;
  }

  /**
   * The zip's bytes: from the finished file, or from a build shared with concurrent callers.
   * `build` must return the zip as a stream and stop when its signal aborts; it may be called
   * even for a key `lookup` found, when that file has gone or turns out damaged.
   */
  open(key: string, build: Build, signal?: AbortSignal): Readable {
    const entry = this.index.get(key);
    const stream = entry ? Readable.from(this.serveFile(key, entry, build, signal)) : this.buildOrFollow(key, build, signal);
    signal?.addEventListener('abort', () => stream.destroy(), { once: true });
    return stream;
  }

  private buildOrFollow(key: string, build: Build, signal?: AbortSignal): Readable {
    if (!this.writable()) return build(signal ?? new AbortController().signal);
    const flight = this.flights.get(key) ?? this.startFlight(key, build);
    return this.follow(key, flight, build, signal);
  }

  /** Streams a finished file, checking its length on open and its checksum before the last chunk. */
  private async *serveFile(key: string, entry: Entry, build: Build, signal?: AbortSignal): AsyncGenerator<Buffer> {
    entry.lastUsed = Date.now();
    let handle: FileHandle;
    try {
      handle = await open(this.pathFor(key, entry), 'r');
    } catch (err) {
      // Removed from outside since the lookup: the same bytes, built again.
      if (!isMissing(err)) this.logger.warn({ op: 'zip-cache', ...errorLogFields(err) }, 'cached zip unreadable; rebuilding it');
      if (this.index.get(key) === entry) this.drop(key);
      yield* this.buildOrFollow(key, build, signal);
      return;
    }
    try {
      if ((await handle.stat()).size !== entry.size) {
        await this.discard(key, entry, 'length');
        yield* this.buildOrFollow(key, build, signal);
        return;
      }
      const sum = new RunningSum();
      let held: Buffer | null = null;
      for (let position = 0; ; ) {
        const buf = Buffer.allocUnsafe(CHUNK);
        const { bytesRead } = await handle.read(buf, 0, CHUNK, position);
        if (bytesRead === 0) break;
        position += bytesRead;
        const chunk = buf.subarray(0, bytesRead);
        sum.update(chunk);
        if (held) yield held;
        held = chunk;
      }
      if (sum.length !== entry.size || sum.digest() !== entry.sum) {
        await this.discard(key, entry, 'checksum');
        throw new InternalError('cached zip failed its checksum', { op: 'zip-cache' });
      }
      if (held) yield held;
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  private writable(): boolean {
    if (!this.unwritable) return true;
    if (Date.now() < this.unwritable.until) return false;
    // Time to try again; the next failure sets it back without a second log line.
    this.unwritable.until = 0;
    return true;
  }

  private markUnwritable(err: unknown): void {
    const errno = errorLogFields(err).errno ?? 'unknown';
    const until = Date.now() + (this.options.retryWritesAfterMs ?? RETRY_WRITES_MS);
    if (this.unwritable?.errno !== errno) {
      this.logger.error({ op: 'zip-cache', errno }, 'zip cache folder cannot be written; serving zips without caching them');
    }
    this.unwritable = { until, errno };
  }

  private markWritable(): void {
    if (!this.unwritable) return;
    this.unwritable = null;
    this.logger.info({ op: 'zip-cache' }, 'zip cache folder can be written again; caching zips');
  }

  private startFlight(key: string, build: Build): Flight {
    const bucket = this.bucketFor(key);
    const flight = new Flight(join(bucket, temporaryName(key)));
    this.flights.set(key, flight);
    const fileReady = (async () => {
      await this.init();
      await mkdir(bucket, { recursive: true });
      return open(flight.tmpPath, 'wx');
    })();
    flight.opened = fileReady.then(() => undefined);
    flight.opened.catch(() => undefined);

    void (async () => {
      let handle: FileHandle | null = null;
      const sum = new RunningSum();
      try {
        try {
          handle = await fileReady;
        } catch (err) {
          flight.diskFailed = true;
          throw err;
        }
        const source = build(flight.abort.signal);
        const sink = new CountingFileSink(
          handle,
          (chunk) => {
            sum.update(chunk);
            flight.written += chunk.length;
            this.total += chunk.length;
            flight.emit('progress');
            if (this.total > this.options.maxBytes) void this.evict();
          },
          () => {
            flight.diskFailed = true;
          },
        );
        await pipeline(source, sink, { signal: flight.abort.signal });
        const facts = { key, size: flight.written, sum: sum.digest() };
        const finalPath = join(bucket, finishedName(facts));
        try {
          // On disk before it has its final name: a crash never leaves a named file half written.
          await handle.sync();
          await handle.close();
          handle = null;
          await rename(flight.tmpPath, finalPath);
          await syncDirectoryOf(finalPath);
        } catch (err) {
          flight.diskFailed = true;
          throw err;
        }
        // The written bytes are already counted in total.
        this.total -= flight.written;
        this.add(key, { size: facts.size, sum: facts.sum, lastUsed: Date.now() });
        this.markWritable();
        flight.done = true;
        flight.emit('progress');
        await this.evict();
      } catch (err) {
        this.total -= flight.written;
        flight.error = err instanceof Error ? err : toProxyError(err, { as: 'not-found', op: 'zip-cache' });
        flight.done = true;
        flight.emit('progress');
        // Name and code only: fs errors carry file paths, which never go into a log line.
        // The build's own stream logs its failure; a disk error is this cache's to report.
        if (flight.diskFailed && isUnwritableDiskError(err)) this.markUnwritable(err);
        else if (!flight.abort.signal.aborted && !(err instanceof ProxyError))
          this.logger.error({ op: 'zip-cache', ...errorLogFields(err) }, 'zip cache write failed');
        await handle?.close().catch(() => undefined);
        // The cleanup must not fail the process: a broken cache folder is reported above.
        await rm(flight.tmpPath, { force: true }).catch(() => undefined);
      } finally {
        this.flights.delete(key);
      }
    })();
    return flight;
  }

  /**
   * Reads a growing build file from the start, waiting for more bytes until the build ends. When
   * the disk fails the build, the reader goes on from a build of its own, past what it has sent.
   */
  private follow(key: string, flight: Flight, build: Build, signal?: AbortSignal): Readable {
    flight.readers++;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      flight.readers--;
      // The last interested client left before the zip was finished: stop building it.
      if (flight.readers === 0 && !flight.done) flight.abort.abort();
    };
    const cache = this;
    async function* chunks(): AsyncGenerator<Buffer> {
      let handle: FileHandle | null = null;
      let position = 0;
      try {
        await flight.opened.catch(() => undefined);
        if (!flight.diskFailed) handle = await open(flight.tmpPath, 'r').catch(() => null);
        for (;;) {
          if (handle && (position < flight.written || flight.done)) {
            // Size reads to what is there: a follower a few bytes behind the build must not
            // allocate a full chunk per read.
            const want = flight.done ? CHUNK : Math.min(CHUNK, flight.written - position);
            const buf = Buffer.allocUnsafe(want);
            const { bytesRead } = await handle.read(buf, 0, want, position);
            if (bytesRead > 0) {
              position += bytesRead;
              yield buf.subarray(0, bytesRead);
              continue;
            }
          }
          if (flight.diskFailed) break;
          if (flight.done) {
            if (flight.error) throw flight.error;
            if (handle) return;
            break;
          }
          await once(flight, 'progress', signal ? { signal } : {});
        }
      } finally {
        await handle?.close().catch(() => undefined);
        release();
      }
      // The build finished and renamed its file before this reader opened it: read the file.
      const entry = !flight.error && position === 0 ? cache.index.get(key) : undefined;
      if (entry) {
        yield* cache.serveFile(key, entry, build, signal);
        return;
      }
      // The disk gave up (or the file vanished): the same bytes from a build of our own.
      yield* skipBytes(build(signal ?? new AbortController().signal), position);
    }
    const stream = Readable.from(chunks(), { objectMode: false });
    stream.on('close', release);
    return stream;
  }

  private async evict(): Promise<void> {
    if (this.total <= this.options.maxBytes || this.evicting) return;
    this.evicting = true;
    try {
      const entries = [...this.index.entries()].sort((a, b) => a[1].lastUsed - b[1].lastUsed);
      for (const [key, entry] of entries) {
        if (this.total <= this.options.maxBytes) break;
        this.drop(key);
        await rm(this.pathFor(key, entry), { force: true }).catch(() => undefined);
      }
    } finally {
      this.evicting = false;
    }
  }
}

/** The stream's bytes after the first `skip`. */
async function* skipBytes(source: Readable, skip: number): AsyncGenerator<Buffer> {
  let left = skip;
  for await (const chunk of source as AsyncIterable<Buffer>) {
    if (left >= chunk.length) {
      left -= chunk.length;
      continue;
    }
    yield left > 0 ? chunk.subarray(left) : chunk;
    left = 0;
  }
}

/** A writable that appends to a file handle and reports each write once it is on disk. */
class CountingFileSink extends Writable {
  constructor(
    private readonly handle: FileHandle,
    private readonly onWritten: (chunk: Buffer) => void,
    private readonly onDiskError: () => void,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.handle.write(chunk).then(
      ({ bytesWritten }) => {
        this.onWritten(bytesWritten === chunk.length ? chunk : chunk.subarray(0, bytesWritten));
        callback();
      },
      (err: unknown) => {
        this.onDiskError();
        callback(err instanceof Error ? err : toProxyError(err, { as: 'not-found', op: 'zip-cache' }));
      },
    );
  }
}
