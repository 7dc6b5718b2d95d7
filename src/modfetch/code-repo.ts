import { NotFoundError, UnknownRevisionError } from '../errors.js';
import { modulePath as goModModulePath, isRetracted as inRetractions, retractions } from '../xmod/modfile.js';
import * as module from '../xmod/module-path.js';
import * as pseudo from '../xmod/pseudo-version.js';
import * as semver from '../xmod/semver.js';
import { MAX_GO_MOD } from '../xmod/zip-check.js';
import type { CodeHost, CodeRevInfo } from './code-host.js';
import { sortCanonicalVersions } from './version-order.js';

/**
 * Go's `modfetch.codeRepo` (cmd/go/internal/modfetch/coderepo.go, Go 1.19) over a CodeHost:
 * which tags are versions of a module, how any revision becomes a version, where the module's
 * go.mod lives. Comments name the Go function each method mirrors; the error texts are Go's, so
 * `go` users see the same reasons through the proxy as in direct mode.
 */

/** The answer to `.info`: a version and the commit it names. */
export interface ResolvedVersion {
  version: string;
  /** Full commit id. */
  commit: string;
  /** Committer time, seconds since the epoch. */
  time: number;
}

/** Where a version's module lives in its commit (`findDir`). */
export interface ModuleLocation {
  commit: string;
  /** Directory of the module inside the repository ("" for the root). */
  dir: string;
  /** The go.mod bytes found, or null when the version legally has none. */
  goMod: Buffer | null;
}

function hasPathPrefix(s: string, prefix: string): boolean {
  if (!s.startsWith(prefix)) return false;
  if (s.length === prefix.length) return true;
  if (prefix.endsWith('/')) return true;
  return s[prefix.length] === '/';
}

function pathJoin(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/');
}

export class CodeRepo {
  readonly codeDir: string;
  readonly pathPrefix: string;
  readonly pathMajor: string;
  readonly pseudoMajor: string;
  private retractedCache: Promise<(v: string) => boolean> | null = null;
  private versionsCache: Promise<string[]> | null = null;

  /** `newCodeRepo`. Throws NotFoundError for a path that cannot be a module of this repository. */
  constructor(
    readonly code: CodeHost,
    readonly codeRoot: string,
    readonly modPath: string,
  ) {
    if (!hasPathPrefix(modPath, codeRoot)) throw new NotFoundError(`${modPath}: module not found`);
    const split = module.splitPathVersion(modPath);
    if (!split.ok) throw new NotFoundError(`invalid module path "${modPath}"`);
    let pathPrefix = split.prefix;
    if (codeRoot === modPath) pathPrefix = modPath;
    let codeDir = '';
    if (codeRoot !== modPath) {
      if (!hasPathPrefix(pathPrefix, codeRoot)) {
        throw new NotFoundError(`repository rooted at ${codeRoot} cannot contain module ${modPath}`);
      }
      codeDir = pathPrefix.slice(codeRoot.length).replace(/^\/+|\/+$/g, '');
    }
    this.codeDir = codeDir;
    this.pathPrefix = pathPrefix;
    this.pathMajor = split.pathMajor;
    this.pseudoMajor = module.pathMajorPrefix(split.pathMajor);
  }

  private get tagPrefix(): string {
    return this.codeDir === '' ? '' : `${this.codeDir}/`;
  }

  private invalid(version: string, message: string, isPseudo = false): NotFoundError {
    return new NotFoundError(`${this.modPath}@${version}: invalid ${isPseudo ? 'pseudo-' : ''}version: ${message}`);
  }

  /** `(*codeRepo).Versions("")`: what `list` answers. */
  versions(): Promise<string[]> {
    this.versionsCache ??= this.computeVersions();
    return this.versionsCache;
  }

  private async computeVersions(): Promise<string[]> {
    if (this.modPath.startsWith('gopkg.in/') && this.modPath.endsWith('-unstable')) return [];
    const p = this.tagPrefix;
    const list: string[] = [];
    const incompatible: string[] = [];
    for (const tag of this.code.tags(p)) {
      const v = tag.slice(p.length);
      if (v === '' || v !== semver.canonical(v)) continue;
      if (pseudo.isPseudoVersion(v)) continue;
      if (module.checkPathMajor(v, this.pathMajor) !== null) {
        if (this.codeDir === '' && this.pathMajor === '' && semver.major(v) > 'v1') incompatible.push(v);
        continue;
      }
      list.push(v);
    }
    sortCanonicalVersions(list);
    sortCanonicalVersions(incompatible);
    return this.appendIncompatibleVersions(list, incompatible);
  }

  private async appendIncompatibleVersions(list: string[], incompatible: string[]): Promise<string[]> {
    if (incompatible.length === 0 || this.pathMajor !== '') return list;
    const versionHasGoMod = async (v: string): Promise<boolean> => {
      const commit = this.code.tagCommit(v);
      if (!commit) return false;
      try {
        return (await this.code.readFile(commit, 'go.mod')) !== null;
      } catch (err) {
        if (err instanceof NotFoundError) return false;
        throw err;
      }
    };
    const last = list[list.length - 1];
    if (last !== undefined && (await versionHasGoMod(last))) return list;

    const out = [...list];
    let lastMajor = '';
    let lastMajorHasGoMod = false;
    for (let i = 0; i < incompatible.length; i++) {
      const v = incompatible[i]!;
      const major = semver.major(v);
      if (major !== lastMajor) {
        let j = i;
        while (j + 1 < incompatible.length && semver.major(incompatible[j + 1]!) === major) j++;
        lastMajor = major;
        lastMajorHasGoMod = await versionHasGoMod(incompatible[j]!);
      }
      if (lastMajorHasGoMod) continue;
      out.push(`${v}+incompatible`);
    }
    return out;
  }

  /** `(*codeRepo).revToRev`. */
  private revToRev(rev: string): string {
    if (semver.isValid(rev)) {
      if (pseudo.isPseudoVersion(rev)) return pseudo.pseudoVersionRev(rev);
      if (semver.build(rev) === '+incompatible') rev = rev.slice(0, -'+incompatible'.length);
      return this.codeDir === '' ? rev : `${this.codeDir}/${rev}`;
    }
    return rev;
  }

  /** `(*codeRepo).Stat`: any revision string → its canonical version. */
  async stat(rev: string): Promise<ResolvedVersion> {
    if (rev === 'latest') return this.latest();
    const codeRev = this.revToRev(rev);
    let info: CodeRevInfo;
    try {
      info = await this.code.stat(codeRev);
    } catch (err) {
      if (err instanceof NotFoundError) throw this.invalid(rev, err.message);
      throw err;
    }
    return this.convert(info, rev);
  }

  /** `(*codeRepo).Latest`: the version of the default branch's head. */
  async latest(): Promise<ResolvedVersion> {
    const head = this.code.refs.head;
    if (!head) throw new NotFoundError(`${this.modPath}: no commits`);
    const info = await this.code.stat(head);
    return this.convert(info, '');
  }

  /** `(*codeRepo).convert`. */
  private async convert(info: CodeRevInfo, statVers: string): Promise<ResolvedVersion> {
    const incompatibleOk = new Map<string, boolean>();
    const canUseIncompatible = async (v: string): Promise<boolean> => {
      if (this.codeDir !== '' || this.pathMajor !== '') return false;
      let ok = incompatibleOk.get('');
      if (ok === undefined) {
        ok = (await this.code.readFile(info.name, 'go.mod')) === null;
        incompatibleOk.set('', ok);
      }
      if (!ok) return false;
      if (v !== '' && !statVers.endsWith('+incompatible')) {
        const major = semver.major(v);
        let okMajor = incompatibleOk.get(major);
        if (okMajor === undefined) {
          okMajor = (await this.code.readFile(info.name, `${major}/go.mod`)) === null;
          incompatibleOk.set(major, okMajor);
        }
        if (!okMajor) return false;
      }
      return true;
    };

    const checkCanonical = async (v: string): Promise<ResolvedVersion> => {
      try {
        await this.findDir(v);
      } catch (err) {
        if (err instanceof NotFoundError) throw this.invalid(v, err.message);
        throw err;
      }
      if (v === statVers.replace(/\+incompatible$/, '')) v = statVers;
      const base = v.replace(/\+incompatible$/, '');
      let errIncompatible: NotFoundError | null = null;
      if (!module.matchPathMajor(base, this.pathMajor)) {
        if (await canUseIncompatible(base)) {
          v = `${base}+incompatible`;
        } else if (this.pathMajor !== '') {
          errIncompatible = this.invalid(v, 'module path includes a major version suffix, so major version must match');
        } else {
          errIncompatible = this.invalid(
            v,
            `module contains a go.mod file, so module path must match major version ("${pathJoin(this.pathPrefix, semver.major(v))}")`,
          );
        }
      } else if (v.endsWith('+incompatible')) {
        errIncompatible = this.invalid(v, `+incompatible suffix not allowed: major version ${semver.major(v)} is compatible`);
      }
      if (statVers !== '' && statVers === module.canonicalVersion(statVers)) {
        const statBase = statVers.replace(/\+incompatible$/, '');
        if (statBase !== base) {
          throw this.invalid(statVers, `resolves to version ${v} (${statBase} is not a tag)`);
        }
      }
      if (errIncompatible) throw errIncompatible;
      return { version: v, commit: info.name, time: info.time };
    };

    if (pseudo.isPseudoVersion(statVers)) {
      await this.validatePseudoVersion(info, statVers);
      return checkCanonical(statVers);
    }

    const tagPrefix = this.tagPrefix;
    const isRetracted = await this.retractedVersions();

    const tagToVersion = (tag: string): { v: string; canonical: boolean } => {
      if (!tag.startsWith(tagPrefix)) return { v: '', canonical: false };
      const trimmed = tag.slice(tagPrefix.length);
      if (pseudo.isPseudoVersion(tag)) return { v: '', canonical: false };
      const v = semver.canonical(trimmed);
      if (v === '' || !trimmed.startsWith(v)) return { v: '', canonical: false };
      return { v, canonical: v === trimmed };
    };

    const own = tagToVersion(info.version);
    if (own.canonical) {
      try {
        return await checkCanonical(own.v);
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
    }

    let highestCanonical = '';
    let pseudoBase = '';
    for (const pathTag of info.tags) {
      const { v, canonical } = tagToVersion(pathTag);
      if (statVers !== '' && semver.compare(v, statVers) === 0) {
        if (canonical) return checkCanonical(v);
        pseudoBase = v;
      }
      if (canonical && semver.compare(highestCanonical, v) < 0 && !isRetracted(v)) {
        if (module.matchPathMajor(v, this.pathMajor) || (await canUseIncompatible(v))) highestCanonical = v;
      }
    }
    if (highestCanonical !== '') return checkCanonical(highestCanonical);

    if (pseudoBase === '') {
      // RecentTag needs a synchronous predicate; settle canUseIncompatible for every major first.
      const allowedMajors = new Map<string, boolean>();
      const candidates = [...new Set([...info.tags, ...this.code.tags(tagPrefix)])];
      for (const tag of candidates) {
        const { v } = tagToVersion(tag);
        if (v === '' || module.matchPathMajor(v, this.pathMajor)) continue;
        const major = semver.major(v);
        if (!allowedMajors.has(major)) allowedMajors.set(major, await canUseIncompatible(v));
      }
      const tagAllowed = (tag: string): boolean => {
        const { v } = tagToVersion(tag);
        if (v === '') return false;
        if (!module.matchPathMajor(v, this.pathMajor) && !allowedMajors.get(semver.major(v))) return false;
        return !isRetracted(v);
      };
      const tag = await this.code.recentTag(info, tagPrefix, tagAllowed, semver.compare);
      if (tag !== '') pseudoBase = tagToVersion(tag).v;
    }
    const version = pseudo.pseudoVersion(this.pseudoMajor, pseudoBase, new Date(info.time * 1000), info.short);
    return checkCanonical(version);
  }

  /** `(*codeRepo).validatePseudoVersion`. */
  private async validatePseudoVersion(info: CodeRevInfo, version: string): Promise<void> {
    const fail = (message: string): NotFoundError => this.invalid(version, message, true);
    let rev: string;
    let t: Date;
    try {
      rev = pseudo.pseudoVersionRev(version);
      t = pseudo.pseudoVersionTime(version);
    } catch (err) {
      throw fail(err instanceof Error ? err.message : String(err));
    }
    if (rev !== info.short) {
      if (rev.startsWith(info.short)) throw fail(`revision is longer than canonical (expected ${info.short})`);
      if (info.short.startsWith(rev)) throw fail(`revision is shorter than canonical (expected ${info.short})`);
      throw fail(`does not match short name of revision (expected ${info.short})`);
    }
    if (t.getTime() !== info.time * 1000) {
      throw fail(`does not match version-control timestamp (expected ${pseudo.formatPseudoTime(new Date(info.time * 1000))})`);
    }
    const tagPrefix = this.tagPrefix;
    let base: string;
    try {
      base = pseudo.pseudoVersionBase(version.replace(/\+incompatible$/, ''));
    } catch (err) {
      throw fail(err instanceof Error ? err.message : String(err));
    }
    if (base === '') {
      if (this.pseudoMajor === '' && semver.major(version) === 'v1') {
        throw fail('major version without preceding tag must be v0, not v1');
      }
      return;
    }
    for (const tag of info.tags) {
      const versionOnly = tag.startsWith(tagPrefix) ? tag.slice(tagPrefix.length) : tag;
      if (versionOnly === base) {
        throw fail(
          `tag (${tag}) found on revision ${rev} is already canonical, so should not be replaced with a pseudo-version derived from that tag`,
        );
      }
    }
    let lastTag = '';
    let ancestorFound = false;
    for (const tag of this.code.tags(tagPrefix + base)) {
      const versionOnly = tag.startsWith(tagPrefix) ? tag.slice(tagPrefix.length) : tag;
      if (semver.compare(versionOnly, base) === 0) {
        lastTag = tag;
        ancestorFound = await this.code.descendsFrom(info.name, tag);
        if (ancestorFound) break;
      }
    }
    if (lastTag === '') throw fail(`preceding tag (${base}) not found`);
    if (!ancestorFound) throw fail(`revision ${rev} is not a descendent of preceding tag (${lastTag})`);
  }

  /** `(*codeRepo).retractedVersions`: retractions declared by the highest release's go.mod. */
  private retractedVersions(): Promise<(v: string) => boolean> {
    this.retractedCache ??= (async () => {
      const none = (): boolean => false;
      let versions = await this.versions();
      const firstIncompatible = versions.findIndex((v) => v.endsWith('+incompatible'));
      if (firstIncompatible >= 0) versions = versions.slice(0, firstIncompatible);
      if (versions.length === 0) return none;
      let highest = '';
      for (let i = versions.length - 1; i >= 0; i--) {
        if (semver.prerelease(versions[i]!) === '') {
          highest = versions[i]!;
          break;
        }
      }
      if (highest === '') highest = versions[versions.length - 1]!;
      let data: Buffer;
      try {
        data = await this.goMod(highest);
      } catch (err) {
        if (err instanceof NotFoundError) return none;
        throw err;
      }
      const intervals = retractions(data);
      if (intervals === null) return none;
      return (v: string) => inRetractions(v, intervals);
    })();
    return this.retractedCache;
  }

  /** `(*codeRepo).findDir`. */
  async findDir(version: string): Promise<ModuleLocation> {
    if (!semver.isValid(version)) throw this.invalid(version, 'syntax error');
    const rev = this.revToRev(version);
    let info: CodeRevInfo;
    try {
      info = await this.code.stat(rev);
    } catch (err) {
      if (err instanceof UnknownRevisionError) throw new NotFoundError(err.message);
      throw err;
    }
    return this.findDirAt(version, info.name, rev);
  }

  /** findDir for a commit already known (a pinned version): the same rules, no ref lookup. */
  async findDirAt(version: string, commit: string, rev = this.revToRev(version)): Promise<ModuleLocation> {
    const file1 = pathJoin(this.codeDir, 'go.mod');
    const gomod1 = await this.code.readFile(commit, file1);
    const mpath1 = gomod1 === null ? '' : (goModModulePath(gomod1) ?? '');
    const found1 = gomod1 !== null && (isMajor(mpath1, this.pathMajor) || this.canReplaceMismatchedVersionDueToBug(mpath1));

    let file2 = '';
    if (this.pathMajor !== '' && this.codeRoot !== this.modPath && !this.pathMajor.startsWith('.')) {
      const dir2 = pathJoin(this.codeDir, this.pathMajor.slice(1));
      file2 = pathJoin(dir2, 'go.mod');
      const gomod2 = await this.code.readFile(commit, file2);
      const mpath2 = gomod2 === null ? '' : (goModModulePath(gomod2) ?? '');
      const found2 = gomod2 !== null && isMajor(mpath2, this.pathMajor);
      if (found1 && found2) {
        throw new NotFoundError(
          `${this.pathPrefix}/${file1} and ...${this.pathMajor}/go.mod both have ...${this.pathMajor} module paths at revision ${rev}`,
        );
      }
      if (found2) return { commit, dir: dir2, goMod: gomod2 };
      if (gomod2 !== null) {
        if (mpath2 === '') throw new NotFoundError(`${this.codeRoot}/${file2} is missing module path at revision ${rev}`);
        throw new NotFoundError(`${this.codeRoot}/${file2} has non-...${this.pathMajor} module path "${mpath2}" at revision ${rev}`);
      }
    }

    if (found1) return { commit, dir: this.codeDir, goMod: gomod1 };
    if (gomod1 !== null) {
      const suffix = file2 !== '' ? ` (and ...${this.pathMajor}/go.mod does not exist)` : '';
      if (mpath1 === '') throw new NotFoundError(`${file1} is missing module path${suffix} at revision ${rev}`);
      if (this.pathMajor !== '') {
        throw new NotFoundError(`${file1} has non-...${this.pathMajor} module path "${mpath1}"${suffix} at revision ${rev}`);
      }
      if (!module.splitPathVersion(mpath1).ok) {
        throw new NotFoundError(`${file1} has malformed module path "${mpath1}"${suffix} at revision ${rev}`);
      }
      throw new NotFoundError(`${file1} has post-${semver.major(version)} module path "${mpath1}"${suffix} at revision ${rev}`);
    }
    if (this.codeDir === '' && (this.pathMajor === '' || this.pathMajor.startsWith('.'))) {
      return { commit, dir: '', goMod: null };
    }
    if (file2 !== '') {
      throw new NotFoundError(`missing ${this.pathPrefix}/go.mod and ...${this.pathMajor}/go.mod at revision ${rev}`);
    }
    throw new NotFoundError(`missing ${this.pathPrefix}/go.mod at revision ${rev}`);
  }

  private canReplaceMismatchedVersionDueToBug(mpath: string): boolean {
    return this.pathMajor === '' && mpath.startsWith('gopkg.in/');
  }

  /** `(*codeRepo).GoMod`. */
  async goMod(version: string): Promise<Buffer> {
    if (version !== module.canonicalVersion(version)) throw this.invalid(version, `version ${version} is not canonical`);
    if (pseudo.isPseudoVersion(version)) await this.stat(version);
    const loc = await this.findDir(version);
    return loc.goMod ?? legacyGoMod(this.modPath);
  }

  /** The `.mod` bytes of a version whose commit is already known. */
  async goModAt(version: string, commit: string): Promise<Buffer> {
    const loc = await this.findDirAt(version, commit);
    // Go refuses the zip of such a version (zip.MaxGoMod); its .mod must not be served either.
    if (loc.goMod && loc.goMod.length > MAX_GO_MOD) throw this.invalid(version, `go.mod file too large (max size is ${MAX_GO_MOD} bytes)`);
    return loc.goMod ?? legacyGoMod(this.modPath);
  }
}

/** `modfetch.isMajor`. */
function isMajor(mpath: string, pathMajor: string): boolean {
  if (mpath === '') return false;
  const split = module.splitPathVersion(mpath);
  if (!split.ok) return false;
  if (pathMajor === '') {
    const p = module.pathMajorPrefix(split.pathMajor);
    return p === '' || p === 'v0' || p === 'v1';
  }
  if (split.pathMajor === '') return false;
  return pathMajor.slice(1) === split.pathMajor.slice(1);
}

/** `LegacyGoMod`: what `.mod` is for a version without a go.mod. */
export function legacyGoMod(modPath: string): Buffer {
  return Buffer.from(`module ${modPath}\n`, 'utf8');
}
