/**
 * A buffer that holds exactly its own bytes. Node hands out small buffers as views: `inflateSync`
 * returns a slice of its 16 KiB output chunk and `Buffer.allocUnsafe` slices a shared 8 KiB pool,
 * so a 200-byte tree kept in a cache can pin 16 KiB behind it. Measured on a large repository,
 * an object cache that counted 39 MB held 903 MB. Anything kept for long goes through here, so
 * that what a cache counts is what it holds.
 */
export function ownedBuffer(buf: Buffer): Buffer {
  if (buf.byteOffset === 0 && buf.buffer.byteLength === buf.byteLength) return buf;
  const copy = Buffer.allocUnsafeSlow(buf.byteLength);
  buf.copy(copy);
  return copy;
}

/** The bytes a kept buffer costs, with a fixed overhead for the object and its map entry. */
export function retainedBytes(buf: Buffer, overhead = 128): number {
  return buf.buffer.byteLength + overhead;
}
