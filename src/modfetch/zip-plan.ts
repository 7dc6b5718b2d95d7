import { NotFoundError } from '../errors.js';
import { type ArchiveFilter, applyArchiveFilter } from '../git/archive/archive-filter.js';
import { AttributeScope } from '../git/archive/attributes.js';
import type { TreeEntry } from '../git/types.js';
import type { PoolCache } from '../support/memory-pool.js';
import { ownedBuffer } from '../support/owned-buffer.js';
import { createYielder } from '../support/yielder.js';
import { goVersion } from '../xmod/modfile.js';
import { checkZipFilesAsync, type ZipCandidate } from '../xmod/zip-check.js';
import { type CodeHost, isBlobMode } from './code-host.js';

/**
 * What direct mode's `(*codeRepo).Zip` puts in a module zip: `git archive` of the commit (with
 * the tree's own .gitattributes output conversions, export-ignore/export-subst neutralised),
 * restricted to the module directory, the root LICENSE added raw to subdirectory modules that
 * lack one, then x/mod's `checkFiles`. Only the plan is computed here; bytes are read lazily
 * while the zip streams, so memory does not grow with the module's size.
 */

/** One file that goes into the zip, in git-archive order. */
export interface PlannedFile {
  /** Path relative to the module root. */
  path: string;
  oid: string;
  /** Output conversion git archive applies; null when the blob is copied as is. */
  filter: ArchiveFilter | null;
  /** Size of the bytes that go into the zip. */
  size: number;
}

export interface ZipPlan {
  /** `<module>@<version>/`, the prefix of every entry. */
  prefix: string;
  files: PlannedFile[];
  totalSize: number;
}

const MODE_TREE = 0o040000;
const MODE_SYMLINK = 0o120000;

function isRegular(mode: number): boolean {
  return mode === 0o100644 || mode === 0o100755 || mode === 0o100664;
}

interface Candidate extends ZipCandidate {
  oid: string;
  filter: ArchiveFilter | null;
}

async function attributesBlob(code: CodeHost, entries: TreeEntry[]): Promise<Buffer | null> {
  const attr = entries.find((e) => e.name === '.gitattributes');
  if (!attr || !isRegular(attr.mode)) return null;
  return code.repo.readBlob(attr.oid);
}

/** Converted bytes by blob and filter, shared between a plan and the build that follows it. */
export type ConvertedCache = PoolCache<Buffer>;

/** Reads the blob and applies the archive filter: the exact bytes `git archive` would emit. */
export async function readArchivedFile(
  code: CodeHost,
  file: { oid: string; filter: ArchiveFilter | null },
  converted?: ConvertedCache,
): Promise<Buffer> {
  const raw = await code.repo.readBlob(file.oid);
  if (!file.filter) return raw;
  const key = `${file.oid}\0${JSON.stringify(file.filter)}`;
  const known = converted?.get(key);
  if (known) return known;
  const out = applyArchiveFilter(raw, file.oid, file.filter);
  converted?.set(key, ownedBuffer(out));
  return out;
}

export async function planModuleZip(
  code: CodeHost,
  args: { commit: string; dir: string; modPath: string; version: string; converted?: ConvertedCache },
): Promise<ZipPlan> {
  const { repo } = code;
  const { tree: rootTree } = await repo.readCommit(args.commit);
  const rootEntries = await repo.readTree(rootTree);
  let scope = AttributeScope.root(await attributesBlob(code, rootEntries));

  // git archive reads every .gitattributes on the way down to the module directory.
  let entries = rootEntries;
  let dirPath = '';
  for (const part of args.dir === '' ? [] : args.dir.split('/')) {
    const next = entries.find((e) => e.name === part && e.mode === MODE_TREE);
    if (!next) throw new NotFoundError(`${args.modPath}@${args.version}: module directory missing`);
    dirPath = dirPath === '' ? part : `${dirPath}/${part}`;
    entries = await repo.readTree(next.oid);
    scope = scope.child(dirPath, await attributesBlob(code, entries));
  }

  const candidates: Candidate[] = [];
  const maybeYield = createYielder();
  let haveLicense = false;
  const walk = async (treeEntries: TreeEntry[], repoDir: string, modDir: string, dirScope: AttributeScope): Promise<void> => {
    for (const entry of treeEntries) {
      await maybeYield();
      const repoPath = repoDir === '' ? entry.name : `${repoDir}/${entry.name}`;
      const modPathRel = modDir === '' ? entry.name : `${modDir}/${entry.name}`;
      if (entry.mode === MODE_TREE) {
        const sub = await repo.readTree(entry.oid);
        await walk(sub, repoPath, modPathRel, dirScope.child(repoPath, await attributesBlob(code, sub)));
        continue;
      }
      // Gitlinks come out of git archive as directory entries, which Go skips entirely.
      if (!isBlobMode(entry.mode)) continue;
      if (modPathRel === 'LICENSE') haveLicense = true;
      if (entry.mode === MODE_SYMLINK) {
        candidates.push({ path: modPathRel, kind: 'symlink', size: 0, oid: entry.oid, filter: null, invalidUtf8: entry.invalidUtf8 });
        continue;
      }
      const filter = dirScope.archiveFilterFor(repoPath);
      const size = filter
        ? (await readArchivedFile(code, { oid: entry.oid, filter }, args.converted)).length
        : await repo.blobSize(entry.oid);
      candidates.push({ path: modPathRel, kind: 'file', size, oid: entry.oid, filter, invalidUtf8: entry.invalidUtf8 });
    }
  };
  await walk(entries, dirPath, '', scope);

  if (!haveLicense && args.dir !== '') {
    // `git cat-file blob <commit>:LICENSE`: the raw blob, no conversion; a symlink gives its target text.
    const license = rootEntries.find((e) => e.name === 'LICENSE');
    if (license && isBlobMode(license.mode)) {
      candidates.push({
        path: 'LICENSE',
        kind: 'file',
        size: await repo.blobSize(license.oid),
        oid: license.oid,
        filter: null,
        invalidUtf8: false,
      });
    }
  }

  const goModFile = candidates.find((c) => c.path === 'go.mod' && c.kind === 'file');
  const goLine = goModFile ? goVersion(await readArchivedFile(code, goModFile)) : null;
  const checked = await checkZipFilesAsync(candidates, goLine, maybeYield);
  if (checked.error) {
    // Go prints one line per bad file; a text/plain error body is read up to its first blank line.
    throw new NotFoundError(`${args.modPath}@${args.version}: create zip: ${checked.error.replace(/\n/g, '; ')}`);
  }
  const files: PlannedFile[] = checked.kept.map((i) => {
    const c = candidates[i]!;
    return { path: c.path, oid: c.oid, filter: c.filter, size: c.size };
  });
  return {
    prefix: `${args.modPath}@${args.version}/`,
    files,
    totalSize: files.reduce((n, f) => n + f.size, 0),
  };
}
