/**
 * The byte conversions `git archive` applies to a regular file on output (git 2.39 convert.c
 * convert_to_working_tree, with core.autocrlf=input, core.eol=lf, no filter drivers), given the
 * ArchiveFilter that attributes.ts decided for the file. Order, as in git: ident, then LF→CRLF,
 * then working-tree-encoding; `filter=<driver>` is a no-op because no driver is configured
 * (so an LFS pointer file stays a pointer file).
 *
 *   applyArchiveFilter(blobBytes, blobOid, filter) → the bytes git archive writes
 *
 * Not applied to symlinks or anything but regular files (git does not convert them either).
 */

import { UnsupportedWorkingTreeEncodingError } from '../../errors.js';
import type { ArchiveFilter } from './attributes.js';

export type { ArchiveFilter } from './attributes.js';

/**
 * git streams blobs larger than core.bigFileThreshold (512 MiB by default) into the archive
 * without any conversion (archive-zip.c / archive-tar.c: `!args->convert && size >
 * big_file_threshold`; convert is only set for export-subst, which info/attributes unsets).
 */
export const BIG_FILE_THRESHOLD = 512 * 1024 * 1024;

/**
 * Returns the bytes `git archive` writes for a blob. `blobOid` is the blob's object id (hex),
 * which is also what ident writes (git hashes the content it is given, which is the blob).
 * Returns `content` itself when nothing changes. Throws UnsupportedWorkingTreeEncodingError
 * for a working-tree-encoding outside `isSupportedWorkingTreeEncoding`.
 */
export function applyArchiveFilter(content: Buffer, blobOid: string, filter: ArchiveFilter): Buffer {
  if (content.length > BIG_FILE_THRESHOLD) return content;
  let out = content;
  if (filter.ident) out = identToWorktree(out, blobOid);
  if (filter.eol !== null) out = crlfToWorktree(out, filter.eol === 'crlf-auto');
  if (filter.workingTreeEncoding !== undefined) out = encodeToWorktree(out, filter.workingTreeEncoding);
  return out;
}

// ---------------------------------------------------------------------------------------------
// ident (convert.c ident_to_worktree)

const DOLLAR = 0x24;
const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const I_ = 0x49;
const D_ = 0x64;
const COLON = 0x3a;

/**
 * `$Id$` and `$Id:…$` (no newline before the closing '$') become `$Id: <oid> $`, except an
 * `$Id:…$` whose text has a space anywhere but right after the colon or right before the closing
 * '$' ("probably an id from some other versioning system"). Mirrors git's loop exactly,
 * including where scanning resumes after a skipped candidate.
 */
export function identToWorktree(src: Buffer, oid: string): Buffer {
  if (src.indexOf(DOLLAR) < 0) return src;
  const replacement = Buffer.from(`Id: ${oid} $`, 'latin1');
  const parts: Buffer[] = [];
  let pos = 0; // start of the not yet copied input
  let changed = false;
  const len = src.length;
  for (;;) {
    const dollar = src.indexOf(DOLLAR, pos);
    if (dollar < 0) break;
    parts.push(src.subarray(pos, dollar + 1));
    pos = dollar + 1;
    const rem = len - pos;
    if (rem < 3 || src[pos] !== I_ || src[pos + 1] !== D_) continue;
    const kind = src[pos + 2];
    if (kind === DOLLAR) {
      pos += 3;
    } else if (kind === COLON) {
      const close = src.indexOf(DOLLAR, pos + 3);
      if (close < 0) break; // incomplete keyword: git stops looking
      const nl = src.indexOf(LF, pos + 3);
      if (nl >= 0 && nl < close) continue;
      // git: memchr(src + 4, ' ', dollar - src - 4). For "$Id:$" that length is -1, i.e. huge,
      // and any space found lies after the closing '$', so it never counts as "unexpected".
      const spc = close - pos - 4 >= 0 ? indexOfIn(src, SP, pos + 4, close) : -1;
      if (spc >= 0 && spc < close - 1) continue;
      pos = close + 1;
    } else {
      continue;
    }
    parts.push(replacement);
    changed = true;
  }
  if (!changed) return src;
  parts.push(src.subarray(pos));
  return Buffer.concat(parts);
}

function indexOfIn(b: Buffer, byte: number, start: number, end: number): number {
  const i = b.indexOf(byte, start);
  return i >= 0 && i < end ? i : -1;
}

// ---------------------------------------------------------------------------------------------
// LF → CRLF (convert.c gather_stats, will_convert_lf_to_crlf, crlf_to_worktree)

export interface TextStats {
  nul: number;
  loneCr: number;
  loneLf: number;
  crlf: number;
  printable: number;
  nonPrintable: number;
}

export function gatherStats(buf: Uint8Array): TextStats {
  const s: TextStats = { nul: 0, loneCr: 0, loneLf: 0, crlf: 0, printable: 0, nonPrintable: 0 };
  const size = buf.length;
  for (let i = 0; i < size; i++) {
    const c = buf[i]!;
    if (c === CR) {
      if (i + 1 < size && buf[i + 1] === LF) {
        s.crlf++;
        i++;
      } else {
        s.loneCr++;
      }
      continue;
    }
    if (c === LF) {
      s.loneLf++;
      continue;
    }
    if (c === 127) {
      s.nonPrintable++;
    } else if (c < 32) {
      // BS, HT, ESC and FF count as printable; NUL is also non-printable.
      if (c === 0x08 || c === 0x09 || c === 0x1b || c === 0x0c) {
        s.printable++;
      } else {
        if (c === 0) s.nul++;
        s.nonPrintable++;
      }
    } else {
      s.printable++;
    }
  }
  // A trailing ^Z (DOS end-of-file) is not held against the file.
  if (size >= 1 && buf[size - 1] === 0x1a) s.nonPrintable--;
  return s;
}

/** convert.c convert_is_binary. */
export function isBinaryStats(s: TextStats): boolean {
  return s.loneCr > 0 || s.nul > 0 || s.printable >>> 7 < s.nonPrintable;
}

/**
 * Every LF not preceded by CR becomes CRLF. With `auto` (text=auto), only when the content has
 * no CR at all and does not look binary. Nothing for empty content or without a lone LF.
 */
export function crlfToWorktree(src: Buffer, auto: boolean): Buffer {
  if (src.length === 0) return src;
  const stats = gatherStats(src);
  if (stats.loneLf === 0) return src;
  if (auto && (stats.loneCr > 0 || stats.crlf > 0 || isBinaryStats(stats))) return src;
  const out = Buffer.allocUnsafe(src.length + stats.loneLf);
  let o = 0;
  let pos = 0;
  for (;;) {
    const nl = src.indexOf(LF, pos);
    if (nl < 0) break;
    if (nl > pos && src[nl - 1] === CR) {
      o += src.copy(out, o, pos, nl + 1);
    } else {
      o += src.copy(out, o, pos, nl);
      out[o++] = CR;
      out[o++] = LF;
    }
    pos = nl + 1;
  }
  o += src.copy(out, o, pos);
  return o === out.length ? out : out.subarray(0, o);
}

// ---------------------------------------------------------------------------------------------
// working-tree-encoding (convert.c encode_to_worktree → utf8.c reencode_string_len → iconv)
//
// git converts the blob from UTF-8 with glibc iconv. If iconv cannot (invalid or truncated
// UTF-8, a character the target cannot represent, an encoding iconv does not know) git prints
// an error and writes the bytes unchanged. We reproduce the encodings below, whose output was
// checked against git 2.39.5 + glibc on a little-endian host (plain "UTF-16"/"UTF-32" mean
// BOM + host order there); any other name throws, because whether iconv knows it (and how it
// encodes) cannot be decided here.

type Encoder = (text: string) => Buffer | null;

function utf16(littleEndian: boolean, bom: boolean): Encoder {
  return (text) => {
    const le = Buffer.from((bom ? '\ufeff' : '') + text, 'utf16le');
    return littleEndian ? le : le.swap16();
  };
}

function utf32(littleEndian: boolean, bom: boolean): Encoder {
  return (text) => {
    const cps: number[] = bom ? [0xfeff] : [];
    for (const ch of text) cps.push(ch.codePointAt(0)!);
    const out = Buffer.alloc(cps.length * 4);
    cps.forEach((cp, i) => {
      littleEndian ? out.writeUInt32LE(cp, i * 4) : out.writeUInt32BE(cp, i * 4);
    });
    return out;
  };
}

const latin1Encoder: Encoder = (text) => {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return null;
  return Buffer.from(text, 'latin1');
};

// ASCII output equals the input whenever iconv succeeds, and the input is kept when it fails.
const asciiEncoder: Encoder = () => null;

/** Upper-cased names → encoder; aliases limited to ones checked against git + glibc. */
const ENCODERS = new Map<string, Encoder>();
for (const [names, enc] of [
  [['UTF-16', 'UTF16', 'UTF-16LE-BOM', 'UTF16LE-BOM'], utf16(true, true)],
  [['UTF-16BE-BOM', 'UTF16BE-BOM'], utf16(false, true)],
  [['UTF-16LE', 'UTF16LE'], utf16(true, false)],
  [['UTF-16BE', 'UTF16BE'], utf16(false, false)],
  [['UTF-32', 'UTF32'], utf32(true, true)],
  [['UTF-32LE', 'UTF32LE'], utf32(true, false)],
  [['UTF-32BE', 'UTF32BE'], utf32(false, false)],
  [['ISO-8859-1', 'ISO8859-1', 'ISO_8859-1', 'ISO88591', 'LATIN1'], latin1Encoder],
  [['ASCII', 'US-ASCII', 'ANSI_X3.4-1968'], asciiEncoder],
] as const) {
  for (const n of names) ENCODERS.set(n, enc);
}

/** True for the working-tree-encoding names applyArchiveFilter can reproduce (case-insensitive). */
export function isSupportedWorkingTreeEncoding(name: string): boolean {
  return ENCODERS.has(name.toUpperCase());
}

export function encodeToWorktree(src: Buffer, encoding: string): Buffer {
  const encoder = ENCODERS.get(encoding.toUpperCase());
  if (!encoder) throw new UnsupportedWorkingTreeEncodingError(encoding, { op: 'git.archive-filter' });
  if (src.length === 0) return src;
  let text: string;
  try {
    // iconv keeps a leading U+FEFF as a character, and rejects what a fatal decoder rejects
    // (invalid, overlong, surrogate, > U+10FFFF, truncated sequences).
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(src);
  } catch {
    return src;
  }
  return encoder(text) ?? src;
}
