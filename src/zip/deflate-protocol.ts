/** The messages between the deflate pool and its worker threads, apart from both so neither imports the other. */

/** Sent to the worker. */
export interface DeflateBatch {
  id: number;
  level: number;
  data: ArrayBuffer;
  lengths: number[];
}

/**
 * @internal Sent back by the worker: the same buffer, each output written over its input, and
 * the output lengths, -1 where deflate would not have made the input smaller.
 */
export type DeflateBatchResult = { id: number; data: ArrayBuffer; lengths: number[] } | { id: number; error: string };

/** The worker's `workerData`. */
export interface DeflateWorkerData {
  nice: number;
}
