import { InternalError } from '../errors.js';

/**
 * Git's delta format: two little-endian base-128 varints (base size, result size), then
 * instructions. An instruction byte with the high bit set copies a range of the base (bits 0–3
 * say which offset bytes follow, bits 4–6 which size bytes; a size of 0 means 0x10000); a byte
 * 1–127 inserts that many literal bytes; 0 is reserved.
 */

function corrupt(): InternalError {
  return new InternalError('corrupt delta', { op: 'git.delta' });
}

/** Reads a varint at `pos`; returns [value, next position], or undefined when `data` ends first. */
function readSize(data: Uint8Array, pos: number): [number, number] | undefined {
  let value = 0;
  let shift = 1;
  for (let i = pos; i < data.length; i++) {
    const byte = data[i]!;
    value += (byte & 0x7f) * shift;
    shift *= 128;
    if ((byte & 0x80) === 0) return [value, i + 1];
    if (shift > 2 ** 56) throw corrupt();
  }
  return undefined;
}

/** Base and result sizes from the start of a delta; undefined when `prefix` is too short. */
export function readDeltaSizes(prefix: Uint8Array): { baseSize: number; resultSize: number } | undefined {
  const base = readSize(prefix, 0);
  if (base === undefined) return undefined;
  const result = readSize(prefix, base[1]);
  if (result === undefined) return undefined;
  return { baseSize: base[0], resultSize: result[0] };
}

/** Instructions applied between two chances to yield; a few hundred microseconds of work. */
const STEP_OPS = 4096;

/**
 * Applies `delta` to `base`, pausing (`yield`) every {@link STEP_OPS} instructions so that a
 * caller can give the event loop a turn: a delta for a multi-MB file can hold ~100k of them.
 */
function* deltaSteps(base: Buffer, delta: Buffer): Generator<void, Buffer> {
  const baseSize = readSize(delta, 0);
  if (baseSize === undefined) throw corrupt();
  const resultSize = readSize(delta, baseSize[1]);
  if (resultSize === undefined) throw corrupt();
  if (baseSize[0] !== base.length) throw corrupt();
  const out = Buffer.allocUnsafe(resultSize[0]);
  let pos = resultSize[1];
  let written = 0;
  let ops = 0;
  while (pos < delta.length) {
    if (++ops % STEP_OPS === 0) yield;
    const op = delta[pos++]!;
    if (op & 0x80) {
      let offset = 0;
      let size = 0;
      // Offsets are up to 32 bits: multiply instead of shifting to stay out of signed int32.
      if (op & 0x01) offset = delta[pos++]!;
      if (op & 0x02) offset += delta[pos++]! * 0x100;
      if (op & 0x04) offset += delta[pos++]! * 0x10000;
      if (op & 0x08) offset += delta[pos++]! * 0x1000000;
      if (op & 0x10) size = delta[pos++]!;
      if (op & 0x20) size += delta[pos++]! * 0x100;
      if (op & 0x40) size += delta[pos++]! * 0x10000;
      if (size === 0) size = 0x10000;
      if (pos > delta.length || offset + size > base.length || written + size > out.length) throw corrupt();
      base.copy(out, written, offset, offset + size);
      written += size;
    } else if (op !== 0) {
      if (pos + op > delta.length || written + op > out.length) throw corrupt();
      delta.copy(out, written, pos, pos + op);
      pos += op;
      written += op;
    } else {
      throw corrupt();
    }
  }
  if (written !== out.length) throw corrupt();
  return out;
}

export function applyDelta(base: Buffer, delta: Buffer): Buffer {
  const steps = deltaSteps(base, delta);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** {@link applyDelta}, calling `maybeYield` between steps and awaiting what it returns. */
export async function applyDeltaYielding(base: Buffer, delta: Buffer, maybeYield: () => Promise<void> | undefined): Promise<Buffer> {
  const steps = deltaSteps(base, delta);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    const turn = maybeYield();
    if (turn) await turn;
  }
}
