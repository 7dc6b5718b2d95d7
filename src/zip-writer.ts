import { Readable } from 'node:stream';
import JSZip from 'jszip';

/** One entry of a zip being streamed; its bytes are read only when the writer reaches it. */
export interface ZipEntrySource {
  name: string;
  read(): Promise<Buffer>;
}

/** Go ignores entry times; a fixed one keeps the zip bytes (and so the ETag) deterministic. */
const FIXED_DATE = new Date(Date.UTC(1980, 0, 1, 0, 0, 0));

/** A readable that produces its bytes only when first read, so jszip pulls entries one by one. */
function lazyReadable(read: () => Promise<Buffer>): Readable {
  let started = false;
  return new Readable({
    read() {
      if (started) return;
      started = true;
      read().then(
        (buf) => {
          this.push(buf);
          this.push(null);
        },
        (err: unknown) => this.destroy(err instanceof Error ? err : new Error(String(err))),
      );
    },
  });
}

/**
 * Streams a zip of the given entries with jszip: `streamFiles` writes each entry as soon as it is
 * compressed (data descriptors), and the lazy inputs keep at most one file's bytes in memory.
 */
export function createJsZipStream(entries: readonly ZipEntrySource[]): Readable {
  const zip = new JSZip();
  for (const entry of entries) {
    zip.file(entry.name, lazyReadable(entry.read), { binary: true, date: FIXED_DATE, createFolders: false });
  }
  const out = zip.generateNodeStream({
    type: 'nodebuffer',
    streamFiles: true,
    compression: 'DEFLATE',
    compressionOptions: { level: 6 },
    platform: 'UNIX',
  });
  // jszip returns an old-style (readable-stream 2) stream; wrap it into a modern Readable.
  return new Readable({ read() {} }).wrap(out);
}
