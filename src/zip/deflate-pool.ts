import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import zlib from 'node:zlib';
import { ConfigError, InternalError } from '../errors.js';
import type { DeflateBatch, DeflateBatchResult, DeflateWorkerData } from './deflate-protocol.js';

/**
 * Deflates zip entries in worker threads, in batches.
 *
 * One async `zlib` call per entry is one libuv threadpool round trip per entry; on the 2-core
 * benchmark machine of BENCHMARKS.md that
 * costs more CPU than the deflate itself for the few-KB files a module is mostly made of
 * (15.6k files: 4.7 s of CPU against 2.3 s deflating the same files synchronously). Here the
 * entries queued in one turn of the event loop travel together, packed into one transferred
 * buffer, and the worker deflates them synchronously. The threads run at a lowered priority, so
 * a zip build gives way to request handling on a busy machine.
 */
export interface DeflatePoolOptions {
  /**
   * Worker threads. Defaults to one per core, at most 4: at their lowered priority they take what
   * the main thread leaves, which while a zip builds is most of every core but its reads.
   */
  threads?: number;
  /** Nice value for the threads (Linux: per thread). 0 leaves the priority alone. Defaults to 10. */
  nice?: number;
  /**
   * Threads stop after this long without work, returning their memory (an isolate and its
   * garbage, ~15–25 MB each); the next deflate starts them again in a few ms. Defaults to 5 s.
   */
  idleMs?: number;
  /** @internal The worker script; tests point it elsewhere to see the fallback. */
  workerUrl?: URL;
}

interface Job {
  input: Buffer;
  level: number;
  resolve: (out: Buffer | null) => void;
  reject: (err: Error) => void;
}

interface Thread {
  worker: Worker;
  inFlight: Map<number, Job[]>;
  /** It has returned a batch, so it did start. */
  worked: boolean;
  /** close() is stopping it. */
  stopping: boolean;
}

function deflateInThreadpool(job: Job): void {
  zlib.deflateRaw(job.input, { level: job.level }, (err, out) =>
    err ? job.reject(err) : job.resolve(out.length < job.input.length ? out : null),
  );
}

/** A batch is sent as soon as it holds this many bytes; smaller ones go at the end of the turn. */
const BATCH_BYTES = 1024 * 1024;
/** Batches queued per thread: one being deflated and one ready, so a thread never waits for us. */
const BATCHES_PER_THREAD = 2;

export class DeflatePool {
  private readonly size: number;
  private readonly nice: number;
  private readonly workerUrl: URL;
  private readonly threads: Thread[] = [];
  /** Batches not sent yet, oldest first; each has one level. */
  private waiting: { level: number; jobs: Job[]; bytes: number }[] = [];
  private flushScheduled = false;
  /** Set when a thread failed to start: deflate in the libuv threadpool instead. */
  private fallback = false;
  private nextId = 1;
  private readonly idleMs: number;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(options: DeflatePoolOptions = {}) {
    this.size = options.threads ?? Math.max(1, Math.min(4, availableParallelism()));
    this.nice = options.nice ?? 10;
    this.idleMs = options.idleMs ?? 5000;
    this.workerUrl = options.workerUrl ?? new URL('./deflate-worker.js', import.meta.url);
    if (!Number.isInteger(this.size) || this.size < 1) throw new ConfigError(`deflate pool: threads must be ≥ 1, got ${this.size}`);
    if (!Number.isInteger(this.nice) || this.nice < -20 || this.nice > 19)
      throw new ConfigError(`deflate pool: nice must be -20–19, got ${this.nice}`);
    if (!(this.idleMs >= 0)) throw new ConfigError(`deflate pool: idleMs must be ≥ 0, got ${this.idleMs}`);
  }

  /** Threads running now. */
  get threadCount(): number {
    return this.threads.length;
  }

  /**
   * Raw deflate (no zlib header) of `input` at `level` (1–9), or null when that is not smaller
   * than `input`, which is then better stored. The result may be a view into a larger buffer.
   */
  deflate(input: Buffer, level: number): Promise<Buffer | null> {
    return new Promise((resolve, reject) => {
      const job: Job = { input, level, resolve, reject };
      if (this.fallback) {
        deflateInThreadpool(job);
        return;
      }
      let batch = this.waiting.at(-1);
      if (!batch || batch.level !== level || batch.bytes >= BATCH_BYTES) {
        batch = { level, jobs: [], bytes: 0 };
        this.waiting.push(batch);
      }
      batch.jobs.push(job);
      batch.bytes += input.length;
      if (batch.bytes >= BATCH_BYTES) this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => {
          this.flushScheduled = false;
          this.flush();
        });
      }
    });
  }

  /** Stops the threads; deflates in progress reject. A later deflate starts them again. */
  async close(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const threads = this.threads.splice(0);
    for (const t of threads) t.stopping = true;
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }

  /** Sends waiting batches to the least busy threads; what does not fit waits for a result. */
  private flush(): void {
    if (this.fallback) {
      for (const batch of this.waiting.splice(0)) batch.jobs.forEach(deflateInThreadpool);
      return;
    }
    while (this.waiting.length > 0) {
      const thread = this.pickThread();
      if (!thread) return; // a returning batch calls flush again
      if (this.idleTimer) {
        clearTimeout(this.idleTimer);
        this.idleTimer = null;
      }
      const { level, jobs, bytes } = this.waiting.shift()!;
      // A fresh, exactly sized buffer: the inputs may be views into larger shared ones, which
      // must not be detached by the transfer.
      const packed = Buffer.allocUnsafeSlow(bytes);
      let at = 0;
      for (const job of jobs) at += job.input.copy(packed, at);
      const id = this.nextId++;
      thread.inFlight.set(id, jobs);
      if (thread.inFlight.size === 1) thread.worker.ref();
      const message: DeflateBatch = { id, level, data: packed.buffer, lengths: jobs.map((j) => j.input.length) };
      thread.worker.postMessage(message, [packed.buffer]);
    }
  }

  private pickThread(): Thread | null {
    let best: Thread | null = null;
    for (const t of this.threads) if (!best || t.inFlight.size < best.inFlight.size) best = t;
    if (best && best.inFlight.size === 0) return best;
    if (this.threads.length < this.size) return this.startThread();
    return best && best.inFlight.size < BATCHES_PER_THREAD ? best : null;
  }

  private startThread(): Thread {
    const workerData: DeflateWorkerData = { nice: this.nice };
    const worker = new Worker(this.workerUrl, {
      workerData,
      // The host's flags (--input-type, loaders) are not meant for this script.
      execArgv: [],
      // A small young generation: a batch's buffers die young, and collecting them often keeps
      // each thread's garbage (external memory V8 frees only with its wrappers) to a few MB.
      resourceLimits: { maxYoungGenerationSizeMb: 1 },
    });
    const thread: Thread = { worker, inFlight: new Map(), worked: false, stopping: false };
    worker.on('message', (result: DeflateBatchResult) => this.settle(thread, result));
    const fail = (err: Error): void => {
      const index = this.threads.indexOf(thread);
      if (index >= 0) this.threads.splice(index, 1);
      const jobs = [...thread.inFlight.values()].flat();
      thread.inFlight.clear();
      if (!thread.worked && !thread.stopping) {
        // The thread could not even start (no worker support, a bundle without the worker
        // file): deflate in the libuv threadpool from now on rather than fail every zip.
        this.fallback = true;
        for (const job of jobs) deflateInThreadpool(job);
      } else {
        for (const job of jobs) job.reject(err);
      }
      this.flush();
    };
    worker.on('error', fail);
    worker.on('exit', () => fail(new InternalError('deflate thread stopped', { op: 'zip.deflate' })));
    // An idle pool must not keep the process alive (the listeners ref the port, so unref after
    // them); a thread with work is ref'd again, or a process waiting only on it would exit.
    worker.unref();
    this.threads.push(thread);
    return thread;
  }

  private settle(thread: Thread, result: DeflateBatchResult): void {
    const jobs = thread.inFlight.get(result.id);
    if (!jobs) return;
    thread.inFlight.delete(result.id);
    thread.worked = true;
    if (thread.inFlight.size === 0) thread.worker.unref();
    if ('error' in result) {
      const err = new InternalError(`deflate failed: ${result.error}`, { op: 'zip.deflate' });
      for (const job of jobs) job.reject(err);
    } else {
      let at = 0;
      for (let i = 0; i < jobs.length; i++) {
        const job = jobs[i]!;
        const length = result.lengths[i]!;
        job.resolve(length < 0 ? null : Buffer.from(result.data, at, length));
        at += job.input.length;
      }
    }
    this.flush();
    if (this.waiting.length === 0 && this.threads.every((t) => t.inFlight.size === 0)) {
      this.idleTimer ??= setTimeout(() => {
        this.idleTimer = null;
        void this.close();
      }, this.idleMs).unref();
    }
  }
}

let shared: DeflatePool | null = null;

/** The process-wide pool the zip writer uses unless given another. */
export function sharedDeflatePool(): DeflatePool {
  shared ??= new DeflatePool();
  return shared;
}
