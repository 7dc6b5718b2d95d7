import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { applyArchiveFilter } from './git/archive-filter.js';
import { openGitRepository } from './git/open-repository.js';
import type { GitRepository, ObjectReaderKind } from './git/repository.js';
import { createNativeZipStream } from './native-zip-writer.js';
import type { BuildRequest, ToMain, ToWorker } from './zip-build-protocol.js';

/**
 * The zip-build thread. All of a build's CPU (object reads, inflates, deltas, deflate) runs here,
 * at a lowered priority, so requests on the main thread keep their latency while a large zip is
 * built: on Linux a nice value set with pid 0 applies to the calling thread only.
 */

const port = parentPort;
if (!port) throw new Error('zip-build-worker must run in a worker thread');

try {
  setPriority(0, 10);
} catch {
  // Not allowed here (some containers): builds then share the CPU evenly, as without a worker.
}

const CREDIT = 4;
const repositories = new Map<string, Promise<GitRepository>>();
const jobs = new Map<number, { destroy(): void; credit: number; resume(): void }>();

function repository(gitdir: string, objectReader: ObjectReaderKind): Promise<GitRepository> {
  const key = `${objectReader}\0${gitdir}`;
  let repo = repositories.get(key);
  if (!repo) {
    // A build reads each blob once; the cache only needs to hold delta bases. Kept small because
    // the main thread keeps a cache of its own for the same repository.
    repo = openGitRepository(gitdir, { objectReader, cacheBytes: 24 * 1024 * 1024 });
    repositories.set(key, repo);
    repo.catch(() => repositories.delete(key));
  }
  return repo;
}

function send(message: ToMain, transfer?: ArrayBuffer[]): void {
  port!.postMessage(message, transfer);
}

async function build(request: BuildRequest): Promise<void> {
  const repo = await repository(request.gitdir, request.objectReader);
  const entries = request.files.map((f) => ({
    name: request.prefix + f.path,
    size: f.size,
    read: async () => {
      const raw = await repo.readBlob(f.oid);
      return f.filter ? applyArchiveFilter(raw, f.oid, f.filter) : raw;
    },
  }));
  const stream = createNativeZipStream(entries, { deflate: 'sync', concurrency: 2 });
  const job = {
    credit: CREDIT,
    destroy: () => stream.destroy(),
    resume: () => stream.resume(),
  };
  jobs.set(request.id, job);
  stream.on('data', (chunk: Buffer) => {
    // Copy into a buffer of its own so it can be transferred, not cloned.
    const copy = new Uint8Array(chunk.length);
    copy.set(chunk);
    send({ type: 'chunk', id: request.id, data: copy.buffer }, [copy.buffer]);
    if (--job.credit <= 0) stream.pause();
  });
  stream.on('end', () => {
    jobs.delete(request.id);
    send({ type: 'end', id: request.id });
  });
  stream.on('error', (err) => {
    jobs.delete(request.id);
    send({ type: 'error', id: request.id, name: err.name, message: err.message });
  });
  stream.on('close', () => jobs.delete(request.id));
}

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'build':
      build(message).catch((err: unknown) => {
        const e = err instanceof Error ? err : new Error(String(err));
        send({ type: 'error', id: message.id, name: e.name, message: e.message });
      });
      return;
    case 'pull': {
      const job = jobs.get(message.id);
      if (job && ++job.credit > 0) job.resume();
      return;
    }
    case 'abort':
      jobs.get(message.id)?.destroy();
      jobs.delete(message.id);
      return;
  }
});
