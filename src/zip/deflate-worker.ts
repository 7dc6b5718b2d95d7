/**
 * The deflate thread of {@link DeflatePool}: takes a batch of inputs packed into one buffer,
 * deflates each synchronously, and sends the buffer back with each output over its input. Synchronous
 * deflate here costs about half the CPU of one async `zlib` call per file, whose threadpool
 * round trip dominates for the small files a module is mostly made of.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import zlib from 'node:zlib';
import type { DeflateBatch, DeflateBatchResult, DeflateWorkerData } from './deflate-protocol.js';

const MIN_CHUNK = 1024;
const MAX_CHUNK = 64 * 1024;

const port = parentPort;
if (!port) throw new Error('deflate-worker must run in a worker thread');

const { nice } = workerData as DeflateWorkerData;
if (nice !== 0) {
  try {
    // On Linux, pid 0 means the calling thread: only this thread gives way to request handling.
    setPriority(0, nice);
  } catch {
    // Not permitted or not supported: deflate at normal priority.
  }
}

port.on('message', (batch: DeflateBatch) => {
  try {
    // Each output goes over its own input, which is no longer needed once deflated: the batch
    // buffer travels back and forth and all long-lived memory stays the main thread's.
    const data = Buffer.from(batch.data);
    const lengths = new Array<number>(batch.lengths.length);
    let at = 0;
    for (let i = 0; i < batch.lengths.length; i++) {
      const length = batch.lengths[i]!;
      // zlib allocates output a chunk at a time (16 KiB by default) and copies the chunks into
      // the result; a chunk near the expected output size halves the garbage for small files.
      const chunkSize = Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, (length >> 1) + 64));
      const out = zlib.deflateRawSync(data.subarray(at, at + length), { level: batch.level, chunkSize });
      if (out.length < length) {
        out.copy(data, at);
        lengths[i] = out.length;
      } else {
        lengths[i] = -1;
      }
      at += length;
    }
    const result: DeflateBatchResult = { id: batch.id, data: batch.data, lengths };
    port.postMessage(result, [batch.data]);
  } catch (err) {
    const result: DeflateBatchResult = { id: batch.id, error: err instanceof Error ? err.message : String(err) };
    port.postMessage(result);
  }
});
