/**
 * The deflate thread of {@link DeflatePool}: takes a batch of inputs packed into one buffer,
 * deflates each synchronously, and sends the outputs back packed the same way. Synchronous
 * deflate here costs about half the CPU of one async `zlib` call per file, whose threadpool
 * round trip dominates for the small files a module is mostly made of.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import zlib from 'node:zlib';
import type { DeflateBatch, DeflateBatchResult, DeflateWorkerData } from './deflate-pool.js';

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
    const input = Buffer.from(batch.data);
    const outputs: Buffer[] = [];
    const lengths = new Array<number>(batch.lengths.length);
    let total = 0;
    let at = 0;
    for (let i = 0; i < batch.lengths.length; i++) {
      const length = batch.lengths[i]!;
      const out = zlib.deflateRawSync(input.subarray(at, at + length), { level: batch.level });
      at += length;
      outputs.push(out);
      lengths[i] = out.length;
      total += out.length;
    }
    const packed = Buffer.allocUnsafeSlow(total);
    let offset = 0;
    for (const out of outputs) offset += out.copy(packed, offset);
    const result: DeflateBatchResult = { id: batch.id, data: packed.buffer, lengths };
    port.postMessage(result, [packed.buffer]);
  } catch (err) {
    const result: DeflateBatchResult = { id: batch.id, error: err instanceof Error ? err.message : String(err) };
    port.postMessage(result);
  }
});
