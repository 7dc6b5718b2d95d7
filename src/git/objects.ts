import { InternalError } from '../errors.js';
import type { AnnotatedTag, Commit, ObjectType, TreeEntry } from './types.js';

/** Parsers for git's object formats; they take raw object content (no "type size\0" header). */

const OBJECT_TYPES: ReadonlySet<string> = new Set(['commit', 'tree', 'blob', 'tag']);

export function isObjectType(value: string): value is ObjectType {
  return OBJECT_TYPES.has(value);
}

/** The id of the empty tree, which git treats as present in every repository. */
export const EMPTY_TREE_OID = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

const HEX_OID = /^[0-9a-f]{40}$/;

export function isOid(value: string): boolean {
  return HEX_OID.test(value);
}

/**
 * Header lines up to the first blank line. Continuation lines (a leading space, as in
 * `gpgsig` and `mergetag`) belong to the previous header and are skipped: we need none of them.
 */
function* headerLines(data: Buffer): Generator<string> {
  let start = 0;
  while (start < data.length) {
    let end = data.indexOf(0x0a, start);
    if (end === -1) end = data.length;
    if (end === start) return;
    if (data[start] !== 0x20) yield data.toString('utf8', start, end);
    start = end + 1;
  }
}

function corrupt(what: string, oid: string): InternalError {
  return new InternalError(`corrupt ${what} object ${oid}`, { op: 'git.parse' });
}

export function parseCommit(oid: string, data: Buffer): Commit {
  let tree: string | undefined;
  const parents: string[] = [];
  let committerTime: number | undefined;
  for (const line of headerLines(data)) {
    const space = line.indexOf(' ');
    const key = space === -1 ? line : line.slice(0, space);
    const value = space === -1 ? '' : line.slice(space + 1);
    if (key === 'tree') tree = value;
    else if (key === 'parent') parents.push(value);
    else if (key === 'committer') committerTime = parseIdentTime(value);
  }
  if (tree === undefined || !isOid(tree) || parents.some((p) => !isOid(p))) throw corrupt('commit', oid);
  // git itself tolerates a missing or malformed committer date and shows the epoch.
  return { oid, tree, parents, committerTime: committerTime ?? 0 };
}

/** "Name <email> 1700000000 +0100" → 1700000000. The name may itself contain '>'. */
function parseIdentTime(ident: string): number | undefined {
  const close = ident.lastIndexOf('>');
  const match = /^\s*(\d+)/.exec(ident.slice(close + 1));
  if (!match) return undefined;
  const secs = Number(match[1]);
  return Number.isSafeInteger(secs) ? secs : undefined;
}

export function parseTag(oid: string, data: Buffer): AnnotatedTag {
  let object: string | undefined;
  let type: string | undefined;
  for (const line of headerLines(data)) {
    if (line.startsWith('object ')) object = line.slice(7);
    else if (line.startsWith('type ')) type = line.slice(5);
    if (object !== undefined && type !== undefined) break;
  }
  if (object === undefined || !isOid(object) || type === undefined || !isObjectType(type)) throw corrupt('tag', oid);
  return { oid, object, type };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');

function decodeName(data: Buffer, start: number, end: number): { name: string; invalidUtf8: boolean } {
  // Most names are ASCII, which needs no validation; latin1 is the cheapest exact decoder for it.
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (data[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return { name: data.toString('latin1', start, end), invalidUtf8: false };
  const bytes = data.subarray(start, end);
  try {
    return { name: strictUtf8.decode(bytes), invalidUtf8: false };
  } catch {
    return { name: lenientUtf8.decode(bytes), invalidUtf8: true };
  }
}

/** Entries in stored order: `<octal mode> <name>\0<20-byte oid>` repeated. */
export function parseTree(oid: string, data: Buffer): TreeEntry[] {
  const entries: TreeEntry[] = [];
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    const nul = space === -1 ? -1 : data.indexOf(0x00, space + 1);
    if (space <= pos || nul === -1 || nul + 21 > data.length) throw corrupt('tree', oid);
    let mode = 0;
    for (let i = pos; i < space; i++) {
      const digit = data[i]! - 0x30;
      if (digit < 0 || digit > 7) throw corrupt('tree', oid);
      mode = mode * 8 + digit;
    }
    const { name, invalidUtf8 } = decodeName(data, space + 1, nul);
    entries.push({ mode, name, invalidUtf8, oid: data.toString('hex', nul + 1, nul + 21) });
    pos = nul + 21;
  }
  return entries;
}
