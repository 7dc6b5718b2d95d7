import { EventEmitter, once } from 'node:events';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { errorLogFields, ProxyError, toProxyError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';

/**
 * On-disk cache of module zips. A zip is immutable for its key (commit, module path, version,
 * writer), so a finished file is served as is, with its length. A missing zip is built once,
 * however many clients ask at the same time: the build writes a temporary file and every client
 * reads that file as it grows, so the first bytes go out while the rest is still being
 * compressed. When every client has gone away the build is aborted.
 */

export interface ZipCacheOptions {
  dir: string;
  /** Total size the cache may reach before the least recently used zips are deleted. */
  maxBytes: number;
  logger?: Logger;
}

interface Entry {
  size: number;
  lastUsed: number;
}

class Flight extends EventEmitter {
  /** Settles once the temporary file exists (or the build failed before that). */
  opened: Promise<void> = Promise.resolve();
  written = 0;
  done = false;
  error: Error | null = null;
  readers = 0;
  readonly abort = new AbortController();
  constructor(readonly tmpPath: string) {
    super();
    this.setMaxListeners(0);
  }
}

const CHUNK = 256 * 1024;

export class ZipCache {
  private readonly index = new Map<string, Entry>();
  private readonly flights = new Map<string, Flight>();
  private total = 0;
  private readonly logger: Logger;
  private ready: Promise<void> | null = null;

  constructor(private readonly options: ZipCacheOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  private pathFor(key: string): string {
    return join(this.options.dir, 'zips', key.slice(0, 2), `${key}.zip`);
  }

  /** Scans what earlier runs left; oldest modification time is evicted first. */
  init(): Promise<void> {
    this.ready ??= (async () => {
      const root = join(this.options.dir, 'zips');
      await mkdir(root, { recursive: true });
      for (const sub of await readdir(root)) {
        let names: string[];
        try {
          names = await readdir(join(root, sub));
        } catch {
          continue;
        }
        for (const name of names) {
          const file = join(root, sub, name);
          if (name.endsWith('.tmp')) {
            await rm(file, { force: true });
            continue;
          }
          if (!name.endsWith('.zip')) continue;
          const st = await stat(file);
          this.index.set(name.slice(0, -4), { size: st.size, lastUsed: st.mtimeMs });
          this.total += st.size;
        }
      }
      await this.evict();
    })();
    return this.ready;
  }

  /** The size of a finished zip, or null when it is not cached. */
  async lookup(key: string): Promise<number | null> {
    await this.init();
    return this.index.get(key)?.size ?? null;
  }

  /**
   * The zip's bytes: from the finished file, or from a build shared with concurrent callers.
   * `build` must return the zip as a stream and stop when its signal aborts.
   */
  open(key: string, build: (signal: AbortSignal) => Readable, signal?: AbortSignal): Readable {
    const entry = this.index.get(key);
    if (entry) {
      entry.lastUsed = Date.now();
      const stream = createReadStream(this.pathFor(key));
      signal?.addEventListener('abort', () => stream.destroy(), { once: true });
      return stream;
    }
    let flight = this.flights.get(key);
    if (!flight) flight = this.startFlight(key, build);
    return this.follow(key, flight, signal);
  }

  private startFlight(key: string, build: (signal: AbortSignal) => Readable): Flight {
    const finalPath = this.pathFor(key);
    const flight = new Flight(`${finalPath}.${process.pid}.${Date.now()}.tmp`);
    this.flights.set(key, flight);
    const fileReady = (async () => {
      await this.init();
      await mkdir(join(this.options.dir, 'zips', key.slice(0, 2)), { recursive: true });
      return open(flight.tmpPath, 'w');
    })();
    flight.opened = fileReady.then(() => undefined);
    flight.opened.catch(() => undefined);

    void (async () => {
      let handle: FileHandle | null = null;
      try {
        handle = await fileReady;
        const source = build(flight.abort.signal);
        const sink = new CountingFileSink(handle, (n) => {
          flight.written += n;
          flight.emit('progress');
        });
        await pipeline(source, sink, { signal: flight.abort.signal });
        await handle.close();
        handle = null;
        await rename(flight.tmpPath, finalPath);
        this.index.set(key, { size: flight.written, lastUsed: Date.now() });
        this.total += flight.written;
        flight.done = true;
        flight.emit('progress');
        await this.evict();
      } catch (err) {
        flight.error = err instanceof Error ? err : toProxyError(err, { as: 'not-found', op: 'zip-cache' });
        flight.done = true;
        flight.emit('progress');
        // Name and code only: fs errors carry file paths, which never go into a log line.
        // The build's own stream logs its failure; a disk error is this cache's to report.
        if (!flight.abort.signal.aborted && !(err instanceof ProxyError))
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

  /** Reads a growing build file from the start, waiting for more bytes until the build ends. */
  private follow(key: string, flight: Flight, signal?: AbortSignal): Readable {
    flight.readers++;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      flight.readers--;
      // The last interested client left before the zip was finished: stop building it.
      if (flight.readers === 0 && !flight.done) flight.abort.abort();
    };
    const finalPath = this.pathFor(key);
    async function* chunks(): AsyncGenerator<Buffer> {
      let handle: FileHandle | null = null;
      try {
        await flight.opened;
        try {
          handle = await open(flight.tmpPath, 'r');
        } catch {
          // The build finished and renamed its file between our checks.
          handle = await open(finalPath, 'r');
        }
        let position = 0;
        for (;;) {
          if (position < flight.written || flight.done) {
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
            if (flight.done) {
              if (flight.error) throw flight.error;
              return;
            }
          }
          await once(flight, 'progress', signal ? { signal } : {});
        }
      } finally {
        await handle?.close().catch(() => undefined);
        release();
      }
    }
    const stream = Readable.from(chunks(), { objectMode: false });
    stream.on('close', release);
    signal?.addEventListener('abort', () => stream.destroy(), { once: true });
    return stream;
  }

  private async evict(): Promise<void> {
    if (this.total <= this.options.maxBytes) return;
    const entries = [...this.index.entries()].sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [key, entry] of entries) {
      if (this.total <= this.options.maxBytes) break;
      this.index.delete(key);
      this.total -= entry.size;
      await rm(this.pathFor(key), { force: true });
    }
  }
}

/** A writable that appends to a file handle and reports each write once it is on disk. */
class CountingFileSink extends Writable {
  constructor(
    private readonly handle: FileHandle,
    private readonly onWritten: (n: number) => void,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.handle.write(chunk).then(
      ({ bytesWritten }) => {
        this.onWritten(bytesWritten);
        callback();
      },
      (err: unknown) => callback(err instanceof Error ? err : toProxyError(err, { as: 'not-found', op: 'zip-cache' })),
    );
  }
}
