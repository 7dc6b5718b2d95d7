/**
 * The bits of Go's unicode package that the x/mod ports need. JavaScript's own Unicode support
 * follows the ICU build of the running Node (Unicode 17 on Node 20.20) and has no SimpleFold,
 * so everything here is looked up in tables generated from the reference toolchain's `unicode`
 * package (see scripts/gen-unicode-fold.go).
 */
import { FOLD_RUNS, LETTER_RANGES, PRINT_RANGES, SPACE_RANGES } from './unicode-fold-table.js';

export { UNICODE_VERSION } from './unicode-fold-table.js';

interface FoldTables {
  /** fold(r) - r for every BMP rune (most are 0). */
  bmp: Int32Array;
  /** fold(r) for the supplementary-plane runes that fold to something else. */
  astral: Map<number, number>;
}

let foldTables: FoldTables | undefined;

function getFoldTables(): FoldTables {
  if (foldTables === undefined) {
    const bmp = new Int32Array(0x10000);
    const astral = new Map<number, number>();
    for (let i = 0; i + 3 < FOLD_RUNS.length; i += 4) {
      const first = FOLD_RUNS[i]!;
      const count = FOLD_RUNS[i + 1]!;
      const stride = FOLD_RUNS[i + 2]!;
      const delta = FOLD_RUNS[i + 3]!;
      for (let k = 0; k < count; k++) {
        const r = first + k * stride;
        if (r < 0x10000) {
          bmp[r] = delta;
        } else {
          astral.set(r, r + delta);
        }
      }
    }
    foldTables = { bmp, astral };
  }
  return foldTables;
}

/** Binary search in a flat list of sorted inclusive [lo, hi] pairs. */
function inRanges(ranges: readonly number[], r: number): boolean {
  let lo = 0;
  let hi = ranges.length / 2;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ranges[2 * mid + 1]! < r) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo < ranges.length / 2 && ranges[2 * lo]! <= r;
}

/** Go's unicode.IsLetter (Unicode version of the reference toolchain). */
export function isLetter(r: number): boolean {
  return inRanges(LETTER_RANGES, r);
}

/** Go's unicode.IsPrint, which strconv.IsPrint equals. */
export function isPrint(r: number): boolean {
  return inRanges(PRINT_RANGES, r);
}

/** Go's unicode.IsSpace. */
export function isSpace(r: number): boolean {
  return inRanges(SPACE_RANGES, r);
}

/**
 * The strToFold image of one rune: the smallest rune of its unicode.SimpleFold orbit, with
 * A–Z then mapped to a–z.
 */
export function foldRune(r: number): number {
  const { bmp, astral } = getFoldTables();
  return r < 0x10000 ? r + bmp[r]! : (astral.get(r) ?? r);
}

/**
 * Mirrors x/mod/zip strToFold (zip.go): strings.EqualFold(s, t) iff strToFold(s) === strToFold(t).
 * `toLowerCase()` is not a substitute: it uses full (multi-rune) mappings and a newer Unicode,
 * so for example U+0130 and U+212A would collide differently.
 *
 * A lone surrogate, which has no UTF-8 encoding, is treated as U+FFFD, as Go's `range` over an
 * invalid byte sequence would.
 */
export function strToFold(s: string): string {
  const { bmp, astral } = getFoldTables();
  let out = '';
  let copied = 0; // s[copied:i] is still to be appended unchanged
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) {
      const d = bmp[c]!;
      if (d !== 0) {
        out += s.slice(copied, i) + String.fromCodePoint(c + d);
        copied = i + 1;
      }
      continue;
    }
    const next = s.charCodeAt(i + 1);
    if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      const f = astral.get(((c - 0xd800) << 10) + (next - 0xdc00) + 0x10000);
      if (f !== undefined) {
        out += s.slice(copied, i) + String.fromCodePoint(f);
        copied = i + 2;
      }
      i++;
      continue;
    }
    out += s.slice(copied, i) + '\ufffd';
    copied = i + 1;
  }
  return copied === 0 ? s : out + s.slice(copied);
}

/**
 * Compares two strings by their UTF-8 bytes, which is Go's string order. For well-formed
 * strings that is code point order; JavaScript's `<` compares UTF-16 code units, which puts
 * U+E000–U+FFFF after the supplementary planes.
 */
export function compareUtf8(a: string, b: string): number {
  if (a === b) {
    return 0;
  }
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) {
      const sa = ca >= 0xd800 && ca <= 0xdfff;
      const sb = cb >= 0xd800 && cb <= 0xdfff;
      if (sa !== sb) {
        // A surrogate (a code point >= U+10000) sorts after any BMP code unit.
        return sa ? 1 : -1;
      }
      return ca < cb ? -1 : 1;
    }
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/** Whether a JavaScript string has a UTF-8 encoding (no unpaired surrogates): Go's utf8.ValidString. */
export function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) {
        return false;
      }
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    }
  }
  return true;
}
