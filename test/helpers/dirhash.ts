/**
 * Port of golang.org/x/mod/sumdb/dirhash Hash1 (x/mod v0.7.0), the `h1:` hash in go.sum:
 *
 *   summary = for each name in sorted order: hex(sha256(content)) + "  " + name + "\n"
 *   h1      = "h1:" + base64(sha256(summary))
 *
 * Names are sorted as Go sorts strings, by UTF-8 bytes. JavaScript's default sort compares
 * UTF-16 code units and orders e.g. U+FF21 and U+1D400 the other way round, which changes the
 * hash (spec §4.6).
 */
import { createHash } from 'node:crypto';

export interface HashedFile {
  /** The full name as hashed: zip entry name (with `module@version/`), or "go.mod". */
  name: string;
  /** Lower-case hex SHA-256 of the file content. */
  sha256Hex: string;
}

export interface FileContent {
  name: string;
  content: Uint8Array;
}

/** Thrown for names dirhash cannot represent (Go: "filenames with newlines are not supported"). */
export class DirhashError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DirhashError';
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

function sha256Hex(content: Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

function checkName(name: string): void {
  if (name.includes('\n')) {
    throw new DirhashError('dirhash: filenames with newlines are not supported');
  }
}

/**
 * dirhash.Hash1 over precomputed file digests. A name listed twice contributes two lines, both
 * with the digest given last for it, as dirhash.HashZip does (it opens files through a map).
 */
export function hash1(files: Iterable<HashedFile>): string {
  const digests = new Map<string, string>();
  const entries: { name: string; bytes: Buffer }[] = [];
  for (const { name, sha256Hex: digest } of files) {
    checkName(name);
    if (!SHA256_HEX.test(digest)) {
      throw new DirhashError(`dirhash: not a lower-case hex SHA-256 digest for ${JSON.stringify(name)}`);
    }
    digests.set(name, digest);
    entries.push({ name, bytes: Buffer.from(name, 'utf8') });
  }
  entries.sort((a, b) => Buffer.compare(a.bytes, b.bytes));
  const summary = createHash('sha256');
  for (const { name, bytes } of entries) {
    summary.update(`${digests.get(name)!}  `);
    summary.update(bytes);
    summary.update('\n');
  }
  return 'h1:' + summary.digest('base64');
}

/** dirhash.Hash1 over file contents held in memory. */
export function hashFiles(files: Iterable<FileContent>): string {
  const hashed: HashedFile[] = [];
  for (const { name, content } of files) {
    checkName(name);
    hashed.push({ name, sha256Hex: sha256Hex(content) });
  }
  return hash1(hashed);
}

/**
 * The go.sum `/go.mod` hash (modfetch.goModSum): Hash1 over one file named "go.mod" holding
 * exactly the `.mod` bytes.
 */
export function hashGoMod(content: Uint8Array | string): string {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return hash1([{ name: 'go.mod', sha256Hex: sha256Hex(bytes) }]);
}

/**
 * Builds an `h1:` hash one file at a time, so a zip writer can hash while it streams: either
 * hand over the whole content, or a digest computed on the fly (e.g. with `createHash`).
 */
export class Hash1Builder {
  private readonly files: HashedFile[] = [];

  /** Adds a file by content, or by the lower-case hex SHA-256 of its content. */
  add(name: string, contentOrSha256Hex: Uint8Array | string): this {
    checkName(name);
    const digest = typeof contentOrSha256Hex === 'string' ? contentOrSha256Hex : sha256Hex(contentOrSha256Hex);
    if (!SHA256_HEX.test(digest)) {
      throw new DirhashError(`dirhash: not a lower-case hex SHA-256 digest for ${JSON.stringify(name)}`);
    }
    this.files.push({ name, sha256Hex: digest });
    return this;
  }

  /** Number of files added so far. */
  get size(): number {
    return this.files.length;
  }

  /** The `h1:` hash of everything added so far. The builder stays usable. */
  digest(): string {
    return hash1(this.files);
  }
}
