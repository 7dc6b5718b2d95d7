import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isNotFound } from '../errors.js';
import type { RefSnapshot } from '../git/types.js';
import { isPseudoVersion } from '../xmod/pseudo-version.js';
import * as semver from '../xmod/semver.js';
import type { ModuleService } from './module-service.js';

/**
 * Warming builds, ahead of the first `go get`, every cache entry a project's tags imply: the
 * `.info`, `.mod` and `.zip` of every listed version of every module the tags name.
 */

/**
 * Module paths the tags of a repository can be versions of: `<root>[/<dir>]` for a tag
 * `[<dir>/]vX.Y.Z`, plus `/vN` for majors from v2 on (both go.mod layouts answer to it).
 */
export function modulePathsFromTags(refs: RefSnapshot, codeRoot: string): string[] {
  const paths = new Set<string>();
  for (const tag of refs.tags.keys()) {
    const slash = tag.lastIndexOf('/');
    const dir = slash < 0 ? '' : tag.slice(0, slash);
    const v = tag.slice(slash + 1);
    if (!semver.isValid(v) || semver.canonical(v) !== v || isPseudoVersion(v)) continue;
    const base = dir === '' ? codeRoot : `${codeRoot}/${dir}`;
    const major = semver.major(v);
    // A gopkg.in root ("gopkg.in/yaml.v3") names its major itself: its tags are its versions.
    if (dir === '' && /\.v\d+$/.test(codeRoot) && codeRoot.startsWith('gopkg.in/')) {
      paths.add(codeRoot);
      continue;
    }
    if (major === 'v0' || major === 'v1') paths.add(base);
    else {
      paths.add(`${base}/${major}`);
      if (dir === '') paths.add(base); // +incompatible versions of a module without go.mod
    }
  }
  return [...paths].sort();
}

export interface WarmProgress {
  /** Versions to build: every listed version of every module, known before the first is built. */
  total: number;
  done: number;
  built: number;
  failed: number;
  current: string;
}

/** Builds every missing entry; versions Go itself would refuse (a 404) are counted, not thrown. */
export async function warmModules(
  service: ModuleService,
  modulePaths: readonly string[],
  onProgress: (p: WarmProgress) => void = () => {},
  signal?: AbortSignal,
): Promise<WarmProgress> {
  const progress: WarmProgress = { total: 0, done: 0, built: 0, failed: 0, current: '' };
  const work: { path: string; version: string }[] = [];
  for (const path of modulePaths) {
    try {
      for (const version of await service.list(path)) work.push({ path, version });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  progress.total = work.length;
  onProgress(progress);
  for (const { path, version } of work) {
    signal?.throwIfAborted();
    progress.current = `${path}@${version}`;
    try {
      await service.info(path, version);
      await service.goMod(path, version);
      const zip = await service.zip(path, version);
      const discard = new Writable({ write: (_chunk, _enc, cb) => cb() });
      await pipeline(zip.open(signal), discard);
      progress.built++;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      progress.failed++;
    }
    progress.done++;
    onProgress(progress);
  }
  return progress;
}
