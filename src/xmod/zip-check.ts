/**
 * Port of golang.org/x/mod/zip checkFiles, the file selection `zip.Create` applies to the
 * files of a module version (x/mod v0.7.0, plus the vendor rule of the x/mod Go 1.24 vendors,
 * where a `vendor/` directory counts only below a module whose go line is older than 1.24).
 *
 * The checks run in Go's order, and the order matters: a file in a vendored package or a nested
 * module is silently omitted even when its name would be invalid, while an invalid name or a
 * case-fold collision anywhere else fails the whole zip.
 */
import { goLangAtLeast } from './modfile.js';
import { canonicalVersion, check, checkFilePath, goQuote, InvalidPathError } from './module-path.js';
import { strToFold } from './unicode-fold.js';

/** zip.MaxZipFile: 500 MiB of uncompressed content. */
export const MAX_ZIP_FILE = 500 * 1024 * 1024;
/** zip.MaxGoMod: 16 MiB. */
export const MAX_GO_MOD = 16 * 1024 * 1024;
/** zip.MaxLICENSE: 16 MiB. */
export const MAX_LICENSE = 16 * 1024 * 1024;

export type ZipCandidateKind = 'file' | 'symlink' | 'directory' | 'other';

/** One file offered to the zip, as `zip.File` would describe it (path + Lstat). */
export interface ZipCandidate {
  /** Slash-separated path relative to the module root. */
  path: string;
  /** 'file' is a regular file (any permission bits); 'other' covers gitlinks and the like. */
  kind: ZipCandidateKind;
  /** Size in bytes of the content that would be zipped (after any export filter). */
  size: number;
  /**
   * Set when the path was not valid UTF-8 and `path` is a lossy decoding of it. CheckFilePath
   * then fails with "invalid UTF-8" as it does in Go (the quoted path in the message shows the
   * decoded form, where Go would show \x escapes).
   */
  invalidUtf8?: boolean;
}

export interface ZipFileError {
  path: string;
  reason: string;
}

/** zip.CheckedFiles, plus the indexes of the kept candidates. */
export interface CheckedZipFiles {
  /** Indexes into the input of the files that go into the zip, in input order. */
  kept: number[];
  /** Paths of the kept files (Go's CheckedFiles.Valid). */
  valid: string[];
  /** Files left out on purpose (vendored, nested module, symlink, …). */
  omitted: ZipFileError[];
  /** Files that make the zip impossible. */
  invalid: ZipFileError[];
  /** Set when the kept files add up to more than MAX_ZIP_FILE bytes. */
  sizeError: string | null;
  /**
   * CheckedFiles.Err() as text: the size error if any, else one "path: reason" line per
   * invalid file; null when the zip can be built.
   */
  error: string | null;
}

const ERR_PATH_NOT_CLEAN = 'file path is not clean';
const ERR_PATH_NOT_RELATIVE = 'file path is not relative';
const ERR_GO_MOD_CASE = 'go.mod files must have lowercase names';
const ERR_GO_MOD_SIZE = `go.mod file too large (max size is ${MAX_GO_MOD} bytes)`;
const ERR_LICENSE_SIZE = `LICENSE file too large (max size is ${MAX_LICENSE} bytes)`;
const ERR_VENDORED = 'file is in vendor directory';
const ERR_SUBMODULE_FILE = 'file is in another module';
const ERR_HG_ARCHIVAL = "file is inserted by 'hg archive' and is always omitted";
const ERR_SYMLINK = 'file is a symbolic link';
const ERR_NOT_REGULAR = 'not a regular file';
const ERR_SIZE = `module source tree too large (max size is ${MAX_ZIP_FILE} bytes)`;

// ---------------------------------------------------------------------------------------------
// Go's path package, for slash-separated paths.

/** path.Clean */
const NEEDS_CLEANING = /(?:^|\/)\.{1,2}(?:\/|$)|\/\/|^\/|\/$/;

export function cleanPath(p: string): string {
  if (p === '') {
    return '.';
  }
  // Nearly every path in a module is already clean; this runs once per file and parent dir.
  if (!NEEDS_CLEANING.test(p)) {
    return p;
  }
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const elem of p.split('/')) {
    if (elem === '' || elem === '.') {
      continue;
    }
    if (elem === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') {
        out.pop();
      } else if (!rooted) {
        out.push('..');
      }
      continue;
    }
    out.push(elem);
  }
  const joined = out.join('/');
  if (rooted) {
    return '/' + joined;
  }
  return joined === '' ? '.' : joined;
}

/** path.Split: the directory part keeps its trailing slash ("a/b/" + "c"). */
function splitPath(p: string): [dir: string, base: string] {
  const i = p.lastIndexOf('/');
  return [p.slice(0, i + 1), p.slice(i + 1)];
}

/** path.Dir */
function dirPath(p: string): string {
  return cleanPath(splitPath(p)[0]);
}

// ---------------------------------------------------------------------------------------------
// Vendor rule.

const VENDOR = Buffer.from('vendor/');
const SLASH_VENDOR = Buffer.from('/vendor/');

function isVendoredPackageBytes(name: string, go124: boolean): boolean {
  if (go124 && name === 'vendor/modules.txt') {
    // Kept before Go 1.24; dropped from then on (golang/go#63395).
    return true;
  }
  if (!name.includes('vendor/')) {
    return false;
  }
  // Go works on byte offsets; with non-ASCII names they differ from UTF-16 offsets.
  const b = Buffer.from(name, 'utf8');
  let i: number;
  if (b.subarray(0, VENDOR.length).equals(VENDOR)) {
    i = VENDOR.length;
  } else {
    const j = b.indexOf(SLASH_VENDOR);
    if (j < 0) {
      return false;
    }
    // Before Go 1.24 the offset is len("/vendor/") from the start of the name, a bug kept so
    // that old checksums stay valid (golang/go#31562, #37397); Go 1.24 fixed it.
    i = go124 ? j + SLASH_VENDOR.length : SLASH_VENDOR.length;
  }
  return b.subarray(i).includes(0x2f);
}

/**
 * x/mod/zip isVendoredPackage(name, vers), with vers derived from the module's own go.mod
 * `go` line (null when there is none or it does not parse): the Go 1.24 rule applies from
 * `go 1.24` on, the old one before. Go 1.19–1.23 toolchains always apply the old rule, which
 * is what passing null selects.
 */
export function isVendoredPackage(name: string, goLine: string | null): boolean {
  return isVendoredPackageBytes(name, goLangAtLeast(goLine, '1.24'));
}

// ---------------------------------------------------------------------------------------------
// checkFiles

/**
 * zip.collisionChecker: paths that are equal under Unicode case folding, entries that are both
 * a file and a directory, and duplicates. Every parent directory is checked too.
 */
class CollisionChecker {
  private readonly seen = new Map<string, { path: string; isDir: boolean; parentsChecked: boolean }>();

  check(p: string, isDir: boolean): string | null {
    // Go re-checks every parent directory for every file. Once a directory's own parents have
    // all passed, checking them again can only pass again, so the walk stops there: the same
    // answers, without a quadratic walk over deep trees.
    const added: { parentsChecked: boolean }[] = [];
    for (;;) {
      const fold = strToFold(p);
      const other = this.seen.get(fold);
      if (other !== undefined) {
        if (p !== other.path) {
          return `case-insensitive file name collision: ${goQuote(other.path)} and ${goQuote(p)}`;
        }
        if (isDir !== other.isDir) {
          return `entry ${goQuote(p)} is both a file and a directory`;
        }
        if (!isDir) {
          return `multiple entries for file ${goQuote(p)}`;
        }
        // The same directory seen again through another file is fine.
        if (other.parentsChecked) break;
      } else {
        const entry = { path: p, isDir, parentsChecked: false };
        this.seen.set(fold, entry);
        added.push(entry);
      }
      const parent = dirPath(p);
      if (parent === '.') {
        break;
      }
      p = parent;
      isDir = true;
    }
    for (const entry of added) entry.parentsChecked = true;
    return null;
  }
}

/**
 * x/mod/zip checkFiles (as run by zip.Create) over candidate files in input order. `goLine` is
 * the `go` line of the root `go.mod` among the candidates, as `goVersion` from go-mod-file.ts
 * reads it (null if there is no such regular file, or to get the Go ≤ 1.23 vendor rule).
 */
export function checkZipFiles(files: readonly ZipCandidate[], goLine: string | null): CheckedZipFiles {
  const check = createFileChecker(files, goLine);
  files.forEach(check.add);
  return check.finish();
}

/**
 * checkZipFiles that gives the event loop a turn whenever `maybeYield` asks for one: a large
 * module's check is ~100 ms of CPU, too long to hold a server's event loop.
 */
export async function checkZipFilesAsync(
  files: readonly ZipCandidate[],
  goLine: string | null,
  maybeYield: () => Promise<void> | undefined,
): Promise<CheckedZipFiles> {
  const check = createFileChecker(files, goLine);
  for (let i = 0; i < files.length; i++) {
    if ((i & 255) === 0) await maybeYield();
    check.add(files[i]!, i);
  }
  return check.finish();
}

function createFileChecker(
  files: readonly ZipCandidate[],
  goLine: string | null,
): { add: (f: ZipCandidate, index: number) => void; finish: () => CheckedZipFiles } {
  const go124 = goLangAtLeast(goLine, '1.24');
  const result: CheckedZipFiles = { kept: [], valid: [], omitted: [], invalid: [], sizeError: null, error: null };

  // Go records only the first error per path; a later problem with the same path is dropped.
  const errPaths = new Set<string>();
  const addError = (path: string, omitted: boolean, reason: string): void => {
    if (errPaths.has(path)) {
      return;
    }
    errPaths.add(path);
    (omitted ? result.omitted : result.invalid).push({ path, reason });
  };

  // Directories holding a regular file named go.mod (in any case) are other modules.
  const haveGoMod = new Set<string>();
  for (const f of files) {
    const [dir, base] = splitPath(f.path);
    if (strToFold(base) === 'go.mod' && f.kind === 'file') {
      haveGoMod.add(dir);
    }
  }
  const inSubmodule = (p: string): boolean => {
    for (;;) {
      const [dir] = splitPath(p);
      if (dir === '') {
        return false;
      }
      if (haveGoMod.has(dir)) {
        return true;
      }
      p = dir.slice(0, -1);
    }
  };

  const collisions = new CollisionChecker();
  let maxSize = MAX_ZIP_FILE;
  const add = (f: ZipCandidate, index: number): void => {
    const p = f.path;
    if (p !== cleanPath(p)) {
      addError(p, false, ERR_PATH_NOT_CLEAN);
      return;
    }
    if (p.startsWith('/')) {
      addError(p, false, ERR_PATH_NOT_RELATIVE);
      return;
    }
    if (isVendoredPackageBytes(p, go124)) {
      addError(p, true, ERR_VENDORED);
      return;
    }
    if (inSubmodule(p)) {
      addError(p, true, ERR_SUBMODULE_FILE);
      return;
    }
    if (p === '.hg_archival.txt') {
      // Inserted by hg archive; the go command drops it whatever the VCS.
      addError(p, true, ERR_HG_ARCHIVAL);
      return;
    }
    const pathErr = f.invalidUtf8 === true ? new InvalidPathError('file', p, 'invalid UTF-8') : checkFilePath(p);
    if (pathErr !== null) {
      addError(p, false, pathErr.message);
      return;
    }
    // strings.ToLower: no non-ASCII rune lowers to a letter of "go.mod", so JavaScript's
    // (newer, full-mapping) toLowerCase gives the same answer here.
    if (p !== 'go.mod' && p.toLowerCase() === 'go.mod') {
      addError(p, false, ERR_GO_MOD_CASE);
      return;
    }
    const collision = collisions.check(p, f.kind === 'directory');
    if (collision !== null) {
      addError(p, false, collision);
      return;
    }
    if (f.kind === 'symlink') {
      addError(p, true, ERR_SYMLINK); // golang/go#27093
      return;
    }
    if (f.kind !== 'file') {
      addError(p, true, ERR_NOT_REGULAR);
      return;
    }
    const size = f.size;
    if (size >= 0 && size <= maxSize) {
      maxSize -= size;
    } else if (result.sizeError === null) {
      result.sizeError = ERR_SIZE;
    }
    if (p === 'go.mod' && size > MAX_GO_MOD) {
      addError(p, false, ERR_GO_MOD_SIZE);
      return;
    }
    if (p === 'LICENSE' && size > MAX_LICENSE) {
      addError(p, false, ERR_LICENSE_SIZE);
      return;
    }
    result.kept.push(index);
    result.valid.push(p);
  };

  const finish = (): CheckedZipFiles => {
    if (result.sizeError !== null) {
      result.error = result.sizeError;
    } else if (result.invalid.length > 0) {
      result.error = result.invalid.map((e) => `${e.path}: ${e.reason}`).join('\n');
    }
    return result;
  };
  return { add, finish };
}

/**
 * The error zip.Create returns for module `modulePath@version` given the checkZipFiles result,
 * as Go prints it ("create zip: …"), or null if Create would succeed. Create first checks that
 * the version is canonical and fits the path.
 */
export function createZipError(modulePath: string, version: string, checked: CheckedZipFiles): string | null {
  const cv = canonicalVersion(version);
  if (cv !== version) {
    return `create zip: version ${goQuote(version)} is not canonical (should be ${goQuote(cv)})`;
  }
  const err = check(modulePath, version);
  if (err !== null) {
    return `create zip: ${err.message}`;
  }
  return checked.error === null ? null : `create zip: ${checked.error}`;
}
