import { createHash, randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, statfs, unlink } from 'node:fs/promises';
import path from 'node:path';
import git, { type PromiseFsClient } from 'isomorphic-git';
import { isMissing } from '../support/fs-errors.js';
import { type AdvertisedRef, createSmartHttpClient, parseAdvertisement } from './smart-http-client.js';
import type { Upstream } from './upstream-options.js';

/**
 * One fetch of a bare mirror from its upstream, with isomorphic-git over smart HTTP. What
 * isomorphic-git writes is steered through a small fs layer, so that the mirror only ever changes
 * in three atomic steps, each complete or absent: the new pack (its trailer checksum verified,
 * written beside and renamed), then its index (renamed: src/git reads a pack once its .idx is
 * there), then `packed-refs` (renamed) with exactly the upstream's heads and tags. Whatever else
 * isomorphic-git would write (loose refs, remote-tracking refs, shallow) lands in a staging folder
 * that is thrown away. An interrupted or failed fetch therefore leaves the mirror as it was.
 */

export type MirrorFailure = 'credentials' | 'not-found' | 'unreachable' | 'timeout' | 'interrupted' | 'disk-full' | 'protocol';

/** A fetch that failed; the message names neither the URL's path nor any secret. */
export class MirrorFetchError extends Error {
  constructor(
    readonly reason: MirrorFailure,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'MirrorFetchError';
  }
}

export interface MirrorFetchOptions {
  idleTimeoutMs: number;
  minFreeBytes: number;
}

export interface MirrorFetchResult {
  /** The refs changed (a new or moved head or tag, or one removed). */
  changed: boolean;
  refs: number;
  /** Bytes of the pack received (0 when nothing was new). */
  packBytes: number;
}

const TMP_MARK = '.tmp-mirror-';
const STAGING_PREFIX = 'mirror-staging-';
/** isomorphic-git reads the mirror's config; it gets this one, whatever the file on disk says. */
const MIRROR_CONFIG = '[core]\n\trepositoryformatversion = 0\n\tbare = true\n[remote "origin"]\n\tfetch = +refs/heads/*:refs/heads/*\n';

/** Writes a file beside its destination, flushes it, and renames it into place. */
async function writeAtomically(file: string, data: Buffer | string): Promise<void> {
  const tmp = `${file}${TMP_MARK}${randomBytes(6).toString('hex')}`;
  try {
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(data);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** A pack is complete when its last 20 bytes are the SHA-1 of everything before them. */
function checkPackTrailer(file: string, data: Buffer): void {
  const name = /pack-([0-9a-f]{40})\.pack$/.exec(file)?.[1];
  const body = data.subarray(0, data.length - 20);
  const trailer = data.subarray(data.length - 20).toString('hex');
  const sum = createHash('sha1').update(body).digest('hex');
  if (
    data.length < 32 ||
    body.subarray(0, 4).toString('latin1') !== 'PACK' ||
    sum !== trailer ||
    (name !== undefined && name !== trailer)
  ) {
    throw new MirrorFetchError('interrupted', 'the pack received from the upstream is incomplete or corrupt');
  }
}

/** The fs isomorphic-git is given: reads go to the mirror, writes as described above. */
function steeredFs(gitdir: string, staging: string): PromiseFsClient {
  const objects = path.join(gitdir, 'objects') + path.sep;
  const config = path.join(gitdir, 'config');
  const steer = (p: string): string => {
    const abs = path.resolve(p);
    if (abs.startsWith(objects)) return abs;
    const rel = path.relative(gitdir, abs);
    return rel.startsWith('..') ? path.join(staging, 'outside', path.basename(abs)) : path.join(staging, rel);
  };
  // Every method is async: isomorphic-git tells a promise fs from a callback fs by calling
  // readFile() with no arguments and looking for a promise; a synchronous throw there makes it
  // wait for a callback that never comes (the fetch hangs).
  const promises = {
    readFile: async (p: string, options?: unknown) => {
      if (path.resolve(p) === config) return options ? MIRROR_CONFIG : Buffer.from(MIRROR_CONFIG);
      return nodeFs.promises.readFile(p, options as never);
    },
    writeFile: async (p: string, data: Buffer | string) => {
      const target = steer(p);
      if (!target.startsWith(objects)) return nodeFs.promises.writeFile(target, data);
      if (target.endsWith('.pack')) checkPackTrailer(target, Buffer.isBuffer(data) ? data : Buffer.from(data));
      return writeAtomically(target, data);
    },
    mkdir: async (p: string) => nodeFs.promises.mkdir(steer(p), { recursive: true }),
    rmdir: async (p: string) => nodeFs.promises.rmdir(steer(p)),
    unlink: async (p: string) => nodeFs.promises.unlink(steer(p)),
    stat: nodeFs.promises.stat,
    lstat: nodeFs.promises.lstat,
    readdir: nodeFs.promises.readdir,
    readlink: nodeFs.promises.readlink,
    symlink: async (target: string, p: string) => nodeFs.promises.symlink(target, steer(p)),
  };
  return { promises };
}

/** Creates the bare layout if it is missing, and removes what an earlier interrupted fetch left. */
export async function prepareMirror(gitdir: string): Promise<void> {
  await mkdir(path.join(gitdir, 'objects', 'pack'), { recursive: true });
  await mkdir(path.join(gitdir, 'refs', 'heads'), { recursive: true });
  await mkdir(path.join(gitdir, 'refs', 'tags'), { recursive: true });
  try {
    await readFile(path.join(gitdir, 'HEAD'));
  } catch (err) {
    if (!isMissing(err)) throw err;
    await writeAtomically(path.join(gitdir, 'HEAD'), 'ref: refs/heads/main\n');
  }
  for (const dir of [gitdir, path.join(gitdir, 'objects', 'pack')]) {
    for (const name of await readdir(dir)) {
      if (name.includes(TMP_MARK) || name.startsWith(STAGING_PREFIX)) await rm(path.join(dir, name), { recursive: true, force: true });
    }
  }
}

async function freeBytes(dir: string): Promise<number> {
  const st = await statfs(dir);
  return Number(st.bavail) * Number(st.bsize);
}

function packedRefs(refs: readonly AdvertisedRef[]): string {
  const lines = ['# pack-refs with: peeled fully-peeled sorted '];
  for (const ref of [...refs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    lines.push(`${ref.oid} ${ref.name}`);
    if (ref.peeled !== undefined) lines.push(`^${ref.peeled}`);
  }
  return `${lines.join('\n')}\n`;
}

async function readOptional(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}

async function password(upstream: Upstream): Promise<string | undefined> {
  return typeof upstream.password === 'function' ? await upstream.password() : upstream.password;
}

/** Maps whatever isomorphic-git, Node or the disk threw to a reason and a message safe to log. */
export function classifyFetchError(err: unknown): MirrorFetchError {
  if (err instanceof MirrorFetchError) return err;
  const e = err as { code?: string; data?: { statusCode?: number }; message?: string };
  if (e?.code === 'HttpError') {
    const status = e.data?.statusCode ?? 0;
    if (status === 401 || status === 403) {
      return new MirrorFetchError('credentials', `the upstream refused the credentials (HTTP ${status})`, { cause: err });
    }
    if (status === 404)
      return new MirrorFetchError('not-found', 'the upstream has no such repository, or hides it from these credentials (HTTP 404)', {
        cause: err,
      });
    return new MirrorFetchError('protocol', `the upstream answered HTTP ${status}`, { cause: err });
  }
  if (e?.code === 'ENOSPC' || e?.code === 'EDQUOT') return new MirrorFetchError('disk-full', 'the disk is full', { cause: err });
  if (e?.code && ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE'].includes(e.code)) {
    return new MirrorFetchError('unreachable', `the upstream cannot be reached (${e.code})`, { cause: err });
  }
  if (typeof e?.message === 'string' && e.message.startsWith('the upstream sent nothing'))
    return new MirrorFetchError('timeout', e.message, { cause: err });
  if (typeof e?.message === 'string' && e.message.startsWith('the upstream closed'))
    return new MirrorFetchError('interrupted', e.message, { cause: err });
  return new MirrorFetchError('protocol', `the fetch failed (${e?.code ?? (err as Error)?.name ?? 'error'})`, { cause: err });
}

/** Fetches the upstream's heads and tags into the bare mirror at `gitdir`, creating it if needed. */
export async function fetchMirror(gitdir: string, upstream: Upstream, options: MirrorFetchOptions): Promise<MirrorFetchResult> {
  await prepareMirror(gitdir);
  const free = await freeBytes(gitdir);
  if (free < options.minFreeBytes) {
    throw new MirrorFetchError(
      'disk-full',
      `only ${free} bytes free on the mirror's disk, below minFreeBytes ${options.minFreeBytes}; the fetch was refused`,
    );
  }
  const staging = path.join(gitdir, `${STAGING_PREFIX}${randomBytes(6).toString('hex')}`);
  await mkdir(staging);
  const client = createSmartHttpClient({ idleTimeoutMs: options.idleTimeoutMs });
  const secret = await password(upstream);
  const headers: Record<string, string> = {};
  if (secret !== undefined || upstream.username !== undefined) {
    headers.Authorization = `Basic ${Buffer.from(`${upstream.username ?? 'oauth2'}:${secret ?? ''}`).toString('base64')}`;
  }
  try {
    const result = await git.fetch({
      fs: steeredFs(gitdir, staging),
      http: client,
      gitdir,
      url: upstream.url,
      remote: 'origin',
      tags: true,
      singleBranch: false,
      headers,
      cache: {},
    });
    const advertised = client.advertisement();
    const { refs, head } = advertised ? parseAdvertisement(advertised) : { refs: [], head: null };
    const refsFile = path.join(gitdir, 'packed-refs');
    const before = await readOptional(refsFile);
    const after = packedRefs(refs);
    if (before !== after) await writeAtomically(refsFile, after);
    if (head !== null && refs.some((r) => r.name === head)) {
      const headFile = path.join(gitdir, 'HEAD');
      if ((await readOptional(headFile)) !== `ref: ${head}\n`) await writeAtomically(headFile, `ref: ${head}\n`);
    }
    // Not in isomorphic-git's types, but returned: the pack's path relative to the gitdir.
    const packfile = (result as { packfile?: string }).packfile;
    const packBytes = packfile ? (await nodeFs.promises.stat(path.join(gitdir, packfile))).size : 0;
    return { changed: before !== after, refs: refs.length, packBytes };
  } catch (err) {
    throw classifyFetchError(err);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
