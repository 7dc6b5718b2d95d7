import { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { InternalError } from './errors.js';
import type { ObjectReaderKind } from './git/repository.js';
import type { ZipPlan } from './module-zip.js';
import type { ToMain, ToWorker } from './zip-build-protocol.js';

/**
 * Builds module zips in one worker thread at a lowered priority (see zip-build-worker.ts). One
 * thread is the concurrency limit too: on the 2 cores this targets, one core stays with the main
 * thread and its requests. The worker starts on the first build and is unref'd, so an idle
 * process can still exit.
 */
export class ZipBuildThread {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly streams = new Map<number, Readable>();

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./zip-build-worker.js', import.meta.url));
    worker.unref();
    worker.on('message', (message: ToMain) => this.onMessage(message));
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', () => {
      this.worker = null;
      this.failAll(new InternalError('zip build thread stopped'));
    });
    this.worker = worker;
    return worker;
  }

  private post(message: ToWorker): void {
    this.worker?.postMessage(message);
  }

  private onMessage(message: ToMain): void {
    const stream = this.streams.get(message.id);
    if (!stream) return;
    switch (message.type) {
      case 'chunk':
        // Give the worker one more chunk of credit for every chunk the consumer takes at once.
        if (stream.push(Buffer.from(message.data))) this.post({ type: 'pull', id: message.id });
        return;
      case 'end':
        this.streams.delete(message.id);
        stream.push(null);
        return;
      case 'error': {
        this.streams.delete(message.id);
        const err = new InternalError(`zip build failed: ${message.name}`);
        stream.destroy(err);
        return;
      }
    }
  }

  private failAll(err: Error): void {
    for (const stream of this.streams.values()) stream.destroy(err);
    this.streams.clear();
  }

  /** The zip of a plan, as a stream; destroying it aborts the build. */
  build(gitdir: string, objectReader: ObjectReaderKind, plan: ZipPlan): Readable {
    const worker = this.start();
    const id = this.nextId++;
    let waiting = false;
    const stream = new Readable({
      read: () => {
        if (waiting) {
          waiting = false;
          this.post({ type: 'pull', id });
        }
      },
      destroy: (err, callback) => {
        if (this.streams.delete(id)) this.post({ type: 'abort', id });
        callback(err);
      },
    });
    // After a push that returned false, the next read() asks for more.
    const push = stream.push.bind(stream);
    stream.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
      const more = push(chunk, encoding);
      if (!more && chunk !== null) waiting = true;
      return more;
    };
    this.streams.set(id, stream);
    worker.postMessage({
      type: 'build',
      id,
      gitdir,
      objectReader,
      prefix: plan.prefix,
      files: plan.files.map((f) => ({ path: f.path, oid: f.oid, filter: f.filter, size: f.size })),
    } satisfies ToWorker);
    return stream;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }
}
