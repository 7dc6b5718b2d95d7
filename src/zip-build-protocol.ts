import type { ArchiveFilter } from './git/archive-filter.js';
import type { ObjectReaderKind } from './git/repository.js';

/** Messages between the main thread and the zip-build worker. */

export interface BuildRequest {
  type: 'build';
  id: number;
  gitdir: string;
  objectReader: ObjectReaderKind;
  /** `<module>@<version>/` */
  prefix: string;
  files: { path: string; oid: string; filter: ArchiveFilter | null; size: number }[];
}

export type ToWorker = BuildRequest | { type: 'pull'; id: number } | { type: 'abort'; id: number };

export type ToMain =
  | { type: 'chunk'; id: number; data: ArrayBuffer }
  | { type: 'end'; id: number }
  | { type: 'error'; id: number; name: string; message: string };
