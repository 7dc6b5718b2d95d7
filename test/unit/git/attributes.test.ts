/**
 * .gitattributes evaluation and git-archive output conversions: unit tests, plus differential
 * tests that build repositories with the git CLI (fast-import, so blobs hold exactly the bytes
 * we choose, untouched by clean filters) and compare every file `git archive` writes, in the
 * environment direct-mode `go` uses, with what attributes.ts + archive-filter.ts produce.
 */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ArchiveAttributeError, UnsupportedWorkingTreeEncodingError } from '../../../src/errors.js';
import {
  applyArchiveFilter,
  crlfToWorktree,
  gatherStats,
  identToWorktree,
  isSupportedWorkingTreeEncoding,
} from '../../../src/git/archive/archive-filter.js';
import {
  type ArchiveFilter,
  AttributeScope,
  parseGitAttributes,
  parsePatternText,
  patternMatchesFile,
  WM_PATHNAME,
  wildmatch,
} from '../../../src/git/archive/attributes.js';
import { seededRandom } from '../../helpers/seeded-random.js';

const OID = '0123456789abcdef0123456789abcdef01234567';
const b = (s: string): Buffer => Buffer.from(s, 'latin1');

// ---------------------------------------------------------------------------------------------
// Parsing

describe('parseGitAttributes', () => {
  test('comments, blank lines, states and values', () => {
    const p = parseGitAttributes(b('# c\n\n  \t\n*.c text -diff !merge eol=crlf x=\n  # indented comment\n*.h\ttext\r\n'), true);
    assert.equal(p.rules.length, 2);
    assert.deepEqual(p.rules[0]!.states, [
      { name: 'text', value: true },
      { name: 'diff', value: false },
      { name: 'merge', value: null },
      { name: 'eol', value: 'crlf' },
      { name: 'x', value: '' },
    ]);
    assert.deepEqual(p.rules[1]!.states, [{ name: 'text', value: true }]);
    assert.equal(Buffer.from(p.rules[1]!.pattern.bytes).toString(), '*.h');
  });

  test('a line with an invalid attribute name is dropped entirely', () => {
    const p = parseGitAttributes(b('*.a text bad/name\n*.b --text\n*.c =x\n*.d text\n'), true);
    assert.deepEqual(
      p.rules.map((r) => Buffer.from(r.pattern.bytes).toString()),
      ['*.d'],
    );
  });

  test('"-attr=value" is unset and "!attr=value" unspecified', () => {
    const p = parseGitAttributes(b('* -text=auto !eol=crlf\n'), true);
    assert.deepEqual(p.rules[0]!.states, [
      { name: 'text', value: false },
      { name: 'eol', value: null },
    ]);
  });

  test('negative patterns are ignored, escaped "!" is literal', () => {
    const p = parseGitAttributes(b('!*.c text\n\\!x text\n'), true);
    assert.equal(p.rules.length, 1);
    assert.equal(Buffer.from(p.rules[0]!.pattern.bytes).toString(), '\\!x');
  });

  test('quoted patterns', () => {
    const p = parseGitAttributes(b('"a b.txt" text\n"tab\\there\\101\\"" -text\n"unterminated text\n"x"eol=lf\n'), true);
    const names = p.rules.map((r) => Buffer.from(r.pattern.bytes).toString('latin1'));
    assert.deepEqual(names, ['a b.txt', 'tab\there\x41"', '"unterminated', 'x']);
    assert.deepEqual(p.rules[3]!.states, [{ name: 'eol', value: 'lf' }]);
  });

  test('macros only where allowed', () => {
    const src = b('[attr]mine text eol=crlf\n[attr] notmacro text\n[attr]bad/name text\n');
    const root = parseGitAttributes(src, true);
    assert.deepEqual(root.macros, [
      {
        name: 'mine',
        states: [
          { name: 'text', value: true },
          { name: 'eol', value: 'crlf' },
        ],
      },
    ]);
    assert.equal(root.rules.length, 1, '"[attr]" followed by a space is a pattern');
    const sub = parseGitAttributes(src, false);
    assert.equal(sub.macros.length, 0);
    assert.equal(sub.rules.length, 1);
  });

  test('content after a NUL byte is ignored; a BOM is part of the first pattern', () => {
    const p = parseGitAttributes(b('\xef\xbb\xbf*.a text\n*.b text\0\n*.c text\n'), true);
    assert.deepEqual(
      p.rules.map((r) => Buffer.from(r.pattern.bytes).toString('latin1')),
      ['\xef\xbb\xbf*.a', '*.b'],
    );
  });

  test('over-long lines are ignored, over-long comments are fine', () => {
    const long = '*.x' + ' '.repeat(2100) + 'text';
    const p = parseGitAttributes(
      b(`#${'c'.repeat(3000)}\n${long}\n*.y text\n${'*.z text'.padEnd(2047, ' ')}\n${'*.w text'.padEnd(2048, ' ')}\n`),
      true,
    );
    assert.deepEqual(
      p.rules.map((r) => Buffer.from(r.pattern.bytes).toString()),
      ['*.y', '*.z'],
    );
  });
});

// ---------------------------------------------------------------------------------------------
// wildmatch (cases from git's t3070-wildmatch.sh)

describe('wildmatch', () => {
  const cases: [pattern: string, text: string, plain: boolean, pathname: boolean][] = [
    ['foo', 'foo', true, true],
    ['bar', 'foo', false, false],
    ['', '', true, true],
    ['???', 'foo', true, true],
    ['??', 'foo', false, false],
    ['*', 'foo', true, true],
    ['f*', 'foo', true, true],
    ['*f', 'foo', false, false],
    ['*foo*', 'foo', true, true],
    ['*ob*a*r*', 'foobar', true, true],
    ['*ab', 'aaaaaaabababab', true, true],
    ['foo\\*', 'foo*', true, true],
    ['foo\\*bar', 'foobar', false, false],
    ['f\\\\oo', 'f\\oo', true, true],
    ['*[al]?', 'ball', true, true],
    ['[ten]', 'ten', false, false],
    ['**[!te]', 'ten', true, true],
    ['**[!ten]', 'ten', false, false],
    ['t[a-g]n', 'ten', true, true],
    ['t[!a-g]n', 'ten', false, false],
    ['t[!a-g]n', 'ton', true, true],
    ['t[^a-g]n', 'ton', true, true],
    ['a[]]b', 'a]b', true, true],
    ['a[]-]b', 'a-b', true, true],
    ['a[]-]b', 'a]b', true, true],
    ['a[]-]b', 'aab', false, false],
    ['a[]a-]b', 'aab', true, true],
    [']', ']', true, true],
    ['foo*bar', 'foo/baz/bar', true, false],
    ['foo**bar', 'foo/baz/bar', true, false],
    ['foo?bar', 'foo/bar', true, false],
    ['foo[/]bar', 'foo/bar', true, false],
    // Without WM_PATHNAME "**" is just "*" (only basename patterns, which have no '/', use it).
    ['**/foo', 'foo', false, true],
    ['**/foo', 'XXX/foo', true, true],
    ['**/foo', 'bar/baz/foo', true, true],
    ['*/foo', 'bar/baz/foo', true, false],
    ['**/bar*', 'foo/bar/baz', true, false],
    ['**/bar/*', 'deep/foo/bar/baz', true, true],
    ['**/bar/*', 'deep/foo/bar/baz/', true, false],
    ['**/bar/**', 'deep/foo/bar/baz/', true, true],
    ['**/bar/*', 'deep/foo/bar', false, false],
    ['**/bar/**', 'deep/foo/bar/', true, true],
    ['**/bar**', 'foo/bar/baz', true, false],
    ['*/bar/**', 'foo/bar/baz/x', true, true],
    ['*/bar/**', 'deep/foo/bar/baz/x', true, false],
    ['**/bar/*/*', 'deep/foo/bar/baz/x', true, true],
    ['a/**/b', 'a/b', false, true],
    ['a/**/b', 'a/x/y/b', true, true],
    ['[[:alpha:]][[:digit:]][[:upper:]]', 'a1B', true, true],
    ['[[:digit:][:upper:][:space:]]', 'A', true, true],
    ['[[:digit:][:upper:][:space:]]', '1', true, true],
    ['[[:digit:][:upper:][:space:]]', ' ', true, true],
    ['[[:digit:][:upper:][:space:]]', '.', false, false],
    ['[[:xdigit:]]', 'f', true, true],
    ['[a-c[:digit:]x-z]', '5', true, true],
    ['[a-c[:digit:]x-z]', 'y', true, true],
    ['[a-c[:digit:]x-z]', 'q', false, false],
    ['[[:nope:]]', 'n', false, false],
    // Each class at its edges (C's ctype, as git's sane_ctype: space is printable, not graphic).
    ['[[:blank:]]', ' ', true, true],
    ['[[:blank:]]', '\t', true, true],
    ['[[:blank:]]', 'a', false, false],
    ['[[:cntrl:]]', '\x01', true, true],
    ['[[:cntrl:]]', '\x7f', true, true],
    ['[[:cntrl:]]', ' ', false, false],
    ['[[:graph:]]', '!', true, true],
    ['[[:graph:]]', ' ', false, false],
    ['[[:print:]]', ' ', true, true],
    ['[[:print:]]', '~', true, true],
    ['[[:print:]]', '\x7f', false, false],
    ['[[:punct:]]', '!', true, true],
    ['[[:punct:]]', 'a', false, false],
    ['[[:lower:]]', 'a', true, true],
    ['[[:lower:]]', 'A', false, false],
    ['[[:alnum:]]', 'z', true, true],
    ['[[:alnum:]]', '0', true, true],
    ['[[:alnum:]]', '9', true, true],
    ['[[:alnum:]]', '_', false, false],
    ['[[:digit:]]', '/', false, false],
    ['[[:digit:]]', ':', false, false],
    ['[\\\\-^]', ']', true, true],
    ['[\\\\-^]', '[', false, false],
    ['[\\-^]', '-', true, true],
    ['[\\-^]', ']', false, false],
    ['*/*/*', 'foo/bba/arr', true, true],
    ['*/*/*', 'foo/bb/aa/rr', true, false],
    ['**/**/**', 'foo/bb/aa/rr', true, true],
    ['*X*i', 'abcXdefXghi', true, true],
    ['*/*X*/*/*i', 'ab/cXd/efXg/hi', true, true],
    ['**/*X*/**/*i', 'ab/cXd/efXg/hi', true, true],
    ['-*-*-*-*-*-*-12-*-*-*-m-*-*-*', '-adobe-courier-bold-o-normal--12-120-75-75-m-70-iso8859-1', true, true],
    ['XXX/*/*/*/*/*/*/12/*/*/*/m/*/*/*', 'XXX/adobe/courier/bold/o/normal//12/120/75/75/X/70/iso8859/1', false, false],
    ['Foo', 'foo', false, false],
  ];
  for (const [pattern, text, plain, pathname] of cases) {
    test(`${JSON.stringify(pattern)} ~ ${JSON.stringify(text)}`, () => {
      assert.equal(wildmatch(pattern, text), plain, 'without WM_PATHNAME');
      assert.equal(wildmatch(pattern, text, WM_PATHNAME), pathname, 'with WM_PATHNAME');
    });
  }
});

describe('patternMatchesFile', () => {
  const m = (pattern: string, path: string, base = ''): boolean => {
    const pat = parsePatternText(pattern);
    assert.ok(pat);
    const p = Buffer.from(path);
    return patternMatchesFile(pat, p, p.lastIndexOf(0x2f) + 1, Buffer.from(base));
  };
  test('no slash: basename at any depth below the base', () => {
    assert.ok(m('*.c', 'a/b/x.c'));
    assert.ok(m('x.c', 'a/b/x.c'));
    assert.ok(m('*.c', 'sub/x.c', 'sub'));
    assert.ok(!m('x.C', 'a/x.c'), 'case-sensitive');
  });
  test('with a slash: relative to the base, leading slash anchors', () => {
    assert.ok(m('/x.c', 'x.c'));
    assert.ok(!m('/x.c', 'a/x.c'));
    assert.ok(m('/x.c', 'sub/x.c', 'sub'));
    assert.ok(m('a/*.c', 'a/x.c'));
    assert.ok(!m('a/*.c', 'z/a/x.c'));
    assert.ok(m('a/*.c', 'sub/a/x.c', 'sub'));
    assert.ok(!m('*/x.c', 'a/b/x.c'));
    assert.ok(m('**/x.c', 'a/b/x.c'));
    assert.ok(m('a/**', 'a/b/x.c'));
    assert.ok(!m('a/**', 'a'));
  });
  test('a trailing slash matches directories only, so never a file', () => {
    assert.ok(!m('x.c/', 'x.c'));
    assert.ok(!m('a/x.c/', 'a/x.c'));
  });
  test('literal prefix is cut before wildmatch, as git does', () => {
    // git matches "foo" literally, then hands "**/bar" to wildmatch as a fresh pattern, where a
    // leading "**/" may cross directories: "a/foox/y/bar" therefore matches "a/foo**/bar".
    assert.ok(m('a/foo**/bar', 'a/foox/y/bar'));
  });
});

// ---------------------------------------------------------------------------------------------
// Scopes

describe('AttributeScope', () => {
  test('no .gitattributes anywhere → null, cheaply', () => {
    const root = AttributeScope.root(null);
    assert.ok(root.isInert);
    assert.equal(root.child('a', null).child('a/b', null).archiveFilterFor('a/b/c.txt'), null);
  });

  test('attributes that do not touch archived bytes compile away', () => {
    assert.ok(AttributeScope.root(b('* -diff merge=ours linguist-vendored export-ignore\n')).isInert);
    const root = AttributeScope.root(b('* -diff\n*.png binary\n'));
    assert.ok(!root.isInert, 'binary is a macro that sets -text');
    assert.equal(root.archiveFilterFor('a.png'), null);
  });

  test('eol=crlf, text=auto, binary macro', () => {
    const root = AttributeScope.root(b('*.txt eol=crlf\n*.a text=auto eol=crlf\n*.bin binary eol=crlf\n*.i ident\n'));
    assert.deepEqual(root.archiveFilterFor('x/y.txt'), { ident: false, eol: 'crlf' });
    assert.deepEqual(root.archiveFilterFor('y.a'), { ident: false, eol: 'crlf-auto' });
    assert.equal(root.archiveFilterFor('y.bin'), null);
    assert.deepEqual(root.archiveFilterFor('y.i'), { ident: true, eol: null });
    assert.equal(root.archiveFilterFor('y.other'), null);
  });

  test('legacy crlf attribute and text precedence', () => {
    const root = AttributeScope.root(b('* eol=crlf\n*.n -crlf\n*.t -crlf text\n*.u crlf=input\n*.v !text\n*.w text=bogus -crlf\n'));
    assert.equal(root.archiveFilterFor('a.n'), null);
    assert.deepEqual(root.archiveFilterFor('a.t')?.eol, 'crlf');
    assert.deepEqual(root.archiveFilterFor('a.u')?.eol, 'crlf', 'eol=crlf wins over crlf=input');
    assert.deepEqual(root.archiveFilterFor('a.v')?.eol, 'crlf');
    assert.equal(root.archiveFilterFor('a.w'), null, 'unknown text value falls back to crlf');
  });

  test('last line wins, last state in a line wins, macros expand where set', () => {
    const root = AttributeScope.root(
      b(
        '[attr]crlfy text eol=crlf\n[attr]outer crlfy\n*.a eol=crlf\n*.a -text\n*.b text -text eol=crlf\n*.c binary text eol=crlf\n*.d text binary eol=crlf\n*.e outer\n*.f -crlfy outer\n',
      ),
    );
    assert.equal(root.archiveFilterFor('x.a'), null);
    assert.equal(root.archiveFilterFor('x.b'), null);
    assert.deepEqual(root.archiveFilterFor('x.c')?.eol, 'crlf');
    assert.equal(root.archiveFilterFor('x.d'), null);
    assert.deepEqual(root.archiveFilterFor('x.e')?.eol, 'crlf');
    assert.equal(root.archiveFilterFor('x.f')?.eol, 'crlf', 'a later line setting outer expands it');
  });

  test('a macro set to false does not expand and stops a lower line from expanding it', () => {
    const root = AttributeScope.root(b('[attr]crlfy eol=crlf\n* crlfy\n*.x -crlfy\n'));
    assert.equal(root.archiveFilterFor('a.x'), null);
    assert.equal(root.archiveFilterFor('a.y')?.eol, 'crlf');
  });

  test('deeper files override, [attr] below the root is ignored, root macros usable below', () => {
    const root = AttributeScope.root(b('[attr]crlfy eol=crlf\n*.txt eol=crlf\n'));
    const sub = root.child('sub', b('[attr]sub eol=crlf\n*.txt -eol\n*.m crlfy\n*.s sub\n'));
    const deep = sub.child('sub/deep', b('x/*.txt eol=crlf\n'));
    assert.equal(root.archiveFilterFor('a.txt')?.eol, 'crlf');
    assert.equal(sub.archiveFilterFor('sub/a.txt'), null);
    assert.equal(sub.archiveFilterFor('sub/a.m')?.eol, 'crlf');
    assert.equal(sub.archiveFilterFor('sub/a.s'), null);
    assert.equal(deep.archiveFilterFor('sub/deep/a.txt'), null);
    assert.equal(deep.archiveFilterFor('sub/deep/x/a.txt')?.eol, 'crlf');
  });

  test('working-tree-encoding', () => {
    const root = AttributeScope.root(
      b('*.u working-tree-encoding=UTF8\n*.l working-tree-encoding=UTF-16LE\n*.t working-tree-encoding\n*.e working-tree-encoding=\n'),
    );
    assert.equal(root.archiveFilterFor('a.u'), null);
    assert.deepEqual(root.archiveFilterFor('a.l'), { ident: false, eol: null, workingTreeEncoding: 'UTF-16LE' });
    assert.equal(root.archiveFilterFor('a.e'), null);
    assert.throws(() => root.archiveFilterFor('a.t'), ArchiveAttributeError);
  });

  test('misuse is reported', () => {
    const root = AttributeScope.root(b('* eol=crlf\n'));
    const sub = root.child('a', null);
    assert.throws(() => sub.child('b', null));
    assert.throws(() => sub.archiveFilterFor('b/x'));
  });
});

// ---------------------------------------------------------------------------------------------
// Conversions

describe('conversions', () => {
  test('crlf: only lone LFs, nothing for empty content', () => {
    assert.equal(crlfToWorktree(b('a\nb\r\nc\n\nd'), false).toString('latin1'), 'a\r\nb\r\nc\r\n\r\nd');
    assert.equal(crlfToWorktree(b(''), false).length, 0);
    assert.equal(crlfToWorktree(b('\n'), false).toString('latin1'), '\r\n');
  });
  test('crlf-auto: skip CR, CRLF and binary-looking content', () => {
    assert.equal(crlfToWorktree(b('a\r\nb\n'), true).toString('latin1'), 'a\r\nb\n');
    assert.equal(crlfToWorktree(b('a\rb\n'), true).toString('latin1'), 'a\rb\n');
    assert.equal(crlfToWorktree(b('a\0b\n'), true).toString('latin1'), 'a\0b\n');
    assert.equal(crlfToWorktree(b('a\nb\n\x1a'), true).toString('latin1'), 'a\r\nb\r\n\x1a');
    assert.equal(crlfToWorktree(b('\x01\n'), true).toString('latin1'), '\x01\n');
    assert.equal(crlfToWorktree(b('x'.repeat(128) + '\x01\n'), true).toString('latin1'), 'x'.repeat(128) + '\x01\r\n');
  });
  test('stats', () => {
    assert.deepEqual(gatherStats(b('a\r\n\rb\n\t\x1b\x7f\0\x1a')), {
      nul: 1,
      loneCr: 1,
      loneLf: 1,
      crlf: 1,
      printable: 4,
      nonPrintable: 2,
    });
  });
  test('ident', () => {
    const h = `$Id: ${OID} $`;
    const cases: [string, string][] = [
      ['$Id$', h],
      ['x $Id$ y $Id$', `x ${h} y ${h}`],
      ['$Id: old $', h],
      ['$Id:old$', h],
      ['$Id:$', h],
      ['$Id: a b $', '$Id: a b $'],
      ['$Id:  $', h],
      ['$Id: x $', h],
      ['$Id:\n$Id$', `$Id:\n${h}`],
      ['$Id: unterminated', '$Id: unterminated'],
      ['$Id: open $Id$', `${h}Id$`],
      ['$$Id$$', `$${h}$`],
      ['$Id', '$Id'],
      ['$ID$', '$ID$'],
    ];
    for (const [input, want] of cases) assert.equal(identToWorktree(b(input), OID).toString('latin1'), want, input);
  });
  test('order: ident before crlf', () => {
    const f: ArchiveFilter = { ident: true, eol: 'crlf-auto' };
    assert.equal(applyArchiveFilter(b('$Id$\n'), OID, f).toString('latin1'), `$Id: ${OID} $\r\n`);
  });
});

// ---------------------------------------------------------------------------------------------
// Differential tests against git 2.39

interface RepoEntry {
  content: Buffer;
  symlink?: boolean;
}

let work = '';
let gitEnv: NodeJS.ProcessEnv = {};

function git(cwd: string, args: string[], input?: Buffer): Buffer {
  return execFileSync('git', args, { cwd, env: gitEnv, input, maxBuffer: 256 * 1024 * 1024, stdio: ['pipe', 'pipe', 'pipe'] });
}

let repoCounter = 0;

/** Builds a one-commit bare repository and returns what `git archive` writes, per file. */
function gitArchive(entries: Map<string, RepoEntry>): { files: Map<string, Buffer>; oids: Map<string, string> } {
  const dir = join(work, `r${++repoCounter}`);
  const bare = join(dir, 'repo.git');
  mkdirSync(dir, { recursive: true });
  git(dir, ['init', '-q', '--bare', bare]);
  const parts: Buffer[] = [b('commit refs/heads/main\ncommitter T <t@example.com> 1600000000 +0000\ndata 0\n')];
  for (const [path, e] of entries) {
    parts.push(b(`M ${e.symlink ? '120000' : '100644'} inline ${path}\ndata ${e.content.length}\n`), e.content, b('\n'));
  }
  git(bare, ['fast-import', '--quiet'], Buffer.concat(parts));
  // What go's ensureGitAttributes leaves in place.
  writeFileSync(join(bare, 'info', 'attributes'), '* -export-subst -export-ignore\n');
  const tar = git(bare, ['-c', 'core.autocrlf=input', '-c', 'core.eol=lf', 'archive', '--format=tar', 'refs/heads/main']);
  const out = join(dir, 'out');
  mkdirSync(out);
  execFileSync('tar', ['-x', '-C', out], { input: tar, maxBuffer: 256 * 1024 * 1024 });
  const oids = new Map<string, string>();
  const files = new Map<string, Buffer>();
  for (const line of git(bare, ['ls-tree', '-r', '-z', 'refs/heads/main']).toString('utf8').split('\0')) {
    if (!line) continue;
    const [meta, path] = line.split('\t') as [string, string];
    const [mode, , oid] = meta.split(' ') as [string, string, string];
    if (mode !== '100644' && mode !== '100755') continue;
    oids.set(path, oid);
    files.set(path, readFileSync(join(out, path)));
  }
  rmSync(dir, { recursive: true, force: true });
  return { files, oids };
}

/** What the lead's tree walk does: one scope per directory, then a filter per regular file. */
function ourArchive(
  entries: Map<string, RepoEntry>,
  oids: Map<string, string>,
): Map<string, { bytes: Buffer; filter: ArchiveFilter | null }> {
  const attrsOf = (dir: string): Buffer | null => {
    const e = entries.get(dir === '' ? '.gitattributes' : `${dir}/.gitattributes`);
    return e && !e.symlink ? e.content : null;
  };
  const scopes = new Map<string, AttributeScope>();
  const scopeOf = (dir: string): AttributeScope => {
    let s = scopes.get(dir);
    if (!s) {
      const slash = dir.lastIndexOf('/');
      s = dir === '' ? AttributeScope.root(attrsOf('')) : scopeOf(slash < 0 ? '' : dir.slice(0, slash)).child(dir, attrsOf(dir));
      scopes.set(dir, s);
    }
    return s;
  };
  const out = new Map<string, { bytes: Buffer; filter: ArchiveFilter | null }>();
  for (const [path, oid] of oids) {
    const e = entries.get(path)!;
    const slash = path.lastIndexOf('/');
    const filter = scopeOf(slash < 0 ? '' : path.slice(0, slash)).archiveFilterFor(path);
    out.set(path, { bytes: filter ? applyArchiveFilter(e.content, oid, filter) : e.content, filter });
  }
  return out;
}

/** Returns how many files git archive wrote, and how many of those it changed. */
function compare(entries: Map<string, RepoEntry>, label: string): { total: number; changed: number } {
  const real = gitArchive(entries);
  const ours = ourArchive(entries, real.oids);
  const bad: string[] = [];
  let changed = 0;
  for (const [path, want] of real.files) {
    const got = ours.get(path)!;
    if (!want.equals(entries.get(path)!.content)) changed++;
    if (!got.bytes.equals(want)) {
      bad.push(
        `${path} filter=${JSON.stringify(got.filter)}\n  in:   ${JSON.stringify(entries.get(path)!.content.toString('latin1'))}\n  git:  ${JSON.stringify(want.toString('latin1'))}\n  ours: ${JSON.stringify(got.bytes.toString('latin1'))}`,
      );
    }
  }
  if (bad.length > 0) {
    const attrs = [...entries].filter(([p]) => p.endsWith('.gitattributes')).map(([p, e]) => `--- ${p}\n${e.content.toString('latin1')}`);
    assert.fail(`${label}: ${bad.length}/${real.files.size} files differ\n${bad.slice(0, 8).join('\n')}\n${attrs.join('\n')}`);
  }
  return { total: real.files.size, changed };
}

const SAMPLES: Record<string, string> = {
  lf: 'line1\nline2\n',
  noeol: 'a\nb',
  crlf: 'a\r\nb\r\n',
  mixed: 'a\r\nb\n',
  lonecr: 'a\rb\n',
  crlast: 'a\nb\r',
  nul: 'a\0b\n',
  ctrlz: 'a\nb\n\x1a',
  ctrlzonly: '\x1a\n',
  bin: '\x01\x02\x03\n',
  edge128: 'x'.repeat(128) + '\x01\n',
  edge127: 'x'.repeat(127) + '\x01\n',
  empty: '',
  nolf: 'no newline at all',
  lfs: 'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n',
  id1: '$Id$\n',
  id2: 'x $Id: old stuff$ y\n',
  id3: '$Id: a b $\n$Id$\n',
  id4: '$Id:$ $Id:x$ $Id: $ $Id:  $\n',
  id5: '$Id:\n$Id$ $Id: unterminated\n',
  id6: '$$Id$$ $Id $I $ID$\n',
  id7: '$Id:$',
  id8: '$Id: x  $ $Id:x y$\n',
  id9: 'crlf $Id$\r\nlf\n',
  utf8: Buffer.from('h\u00e9llo \u20ac \u{1F600}\n$Id$\n', 'utf8').toString('latin1'),
  caf: Buffer.from('caf\u00e9\n\u00ff\u0080\n', 'utf8').toString('latin1'),
  utf8bom: '\xef\xbb\xbfbom\n',
  badutf8: 'a\xffb\n',
  trunc: 'a\xe2\x82',
  surrogate: 'a\xed\xa0\x80\n',
};

describe('differential: git archive', { timeout: 60_000 }, () => {
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'git-attributes-test-'));
    const home = join(work, 'home');
    mkdirSync(home);
    writeFileSync(join(home, '.gitconfig'), '');
    gitEnv = {
      PATH: process.env.PATH,
      HOME: home,
      GIT_CONFIG_NOSYSTEM: '1',
      XDG_CONFIG_HOME: join(home, '.config'),
      LC_ALL: 'C',
      TZ: 'UTC',
    };
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('hand-written cases', (t) => {
    const entries = new Map<string, RepoEntry>();
    const add = (path: string, content: string | Buffer, symlink = false): void => {
      entries.set(path, { content: typeof content === 'string' ? b(content) : content, symlink });
    };
    add(
      '.gitattributes',
      [
        '# comment',
        '[attr]crlfy text eol=crlf',
        '[attr]nested crlfy ident',
        '[attr]neg -crlfy',
        '*.crlf eol=crlf',
        '*.text text eol=crlf',
        '*.auto text=auto eol=crlf',
        '*.autolf text=auto eol=lf',
        '*.bin binary',
        '*.binc binary eol=crlf',
        '*.macro crlfy',
        '*.nested nested',
        '*.negm neg crlfy',
        '*.legacy crlf eol=crlf',
        '*.nocrlf -crlf eol=crlf',
        '*.crlfinput crlf=input eol=crlf',
        '*.crlfauto crlf=auto eol=crlf',
        '*.notext -text eol=crlf',
        '*.unset !text eol=crlf',
        '*.bogus text=bogus eol=crlf',
        '*.eolbogus eol=CRLF',
        '*.id ident',
        '*.noid ident=yes',
        '*.idcrlf ident eol=crlf',
        '*.idauto ident text=auto eol=crlf',
        '"quoted name.q" eol=crlf',
        '/anchored.a eol=crlf',
        'docs/**/*.md eol=crlf',
        '**/deep.d eol=crlf',
        '[ab]?.cls eol=crlf',
        '[!x]*.neg eol=crlf',
        '[[:upper:]]*.up eol=crlf',
        '!*.crlf -eol',
        '*.wte working-tree-encoding=UTF-8 eol=crlf',
        '*.off eol=crlf',
        '*.off !eol',
        'a*/x.p eol=crlf',
        '*.tm1 binary text eol=crlf',
        '*.tm2 text binary eol=crlf',
        '*.lfs filter=lfs diff=lfs merge=lfs -text',
        '*.lfs2 filter=lfs eol=crlf',
        'dironly/ eol=crlf',
        '*.long eol=crlf' + ' '.repeat(2100),
        'nested/*.crlf -eol',
        '*.w16 working-tree-encoding=UTF-16',
        '*.w16le working-tree-encoding=utf-16le eol=crlf',
        '*.w16be working-tree-encoding=UTF16BE ident',
        '*.w16lebom working-tree-encoding=UTF-16LE-BOM text=auto eol=crlf',
        '*.w16bebom working-tree-encoding=utf16be-bom',
        '*.w32 working-tree-encoding=UTF-32',
        '*.w32le working-tree-encoding=UTF-32LE',
        '*.w32be working-tree-encoding=utf-32be eol=crlf',
        '*.wl1 working-tree-encoding=ISO-8859-1',
        '*.wl2 working-tree-encoding=latin1 eol=crlf',
        '*.wascii working-tree-encoding=US-ASCII',
        '*.wu8 working-tree-encoding=utf8',
        '*.wempty working-tree-encoding=',
        '*.wunset working-tree-encoding=UTF-16 -working-tree-encoding',
        '',
      ].join('\n'),
    );
    add(
      'sub/.gitattributes',
      [
        '[attr]ignored eol=crlf',
        '*.ign ignored',
        '*.crlf -text',
        'x/*.s eol=crlf',
        '/top.t eol=crlf',
        '*.macro nested',
        '*.sub ident eol=crlf',
      ].join('\n') + '\n',
    );
    add('sub/deeper/.gitattributes', '*.crlf text eol=crlf\n*.sub -ident\n/*.anch eol=crlf\n');
    add('lnk/.gitattributes', '../target', true);
    add('target', '* eol=crlf\n');
    add('crlfattrs/.gitattributes', '*.c eol=crlf\r\n*.d\teol=crlf\r\n');
    add('bom/.gitattributes', '\xef\xbb\xbf*.crlf -eol\n*.z eol=crlf\n');
    add('nulattrs/.gitattributes', '*.y eol=crlf\0\n*.z eol=crlf\n');

    const exts = [
      'crlf',
      'text',
      'auto',
      'autolf',
      'bin',
      'binc',
      'macro',
      'nested',
      'negm',
      'legacy',
      'nocrlf',
      'crlfinput',
      'crlfauto',
      'notext',
      'unset',
      'bogus',
      'eolbogus',
      'id',
      'noid',
      'idcrlf',
      'idauto',
      'wte',
      'off',
      'tm1',
      'tm2',
      'lfs',
      'lfs2',
      'long',
      'ign',
      's',
      't',
      'sub',
      'anch',
      'cls',
      'neg',
      'up',
      'c',
      'd',
      'y',
      'z',
      'plain',
    ];
    const dirs = ['', 'sub/', 'sub/x/', 'sub/deeper/', 'sub/deeper/x/', 'nested/', 'lnk/', 'crlfattrs/', 'bom/', 'nulattrs/'];
    const sampleNames = Object.keys(SAMPLES);
    let i = 0;
    for (const dir of dirs) {
      for (const ext of exts) {
        // Every sample for the interesting combinations would be ~4000 files; rotate instead.
        for (let k = 0; k < 4; k++) {
          const name = sampleNames[(i++ * 7) % sampleNames.length]!;
          add(`${dir}${name}.${ext}`, SAMPLES[name]!);
        }
      }
    }
    const wteExts = [
      'w16',
      'w16le',
      'w16be',
      'w16lebom',
      'w16bebom',
      'w32',
      'w32le',
      'w32be',
      'wl1',
      'wl2',
      'wascii',
      'wu8',
      'wempty',
      'wunset',
    ];
    for (const name of sampleNames) {
      for (const ext of wteExts) add(`enc/${name}.${ext}`, SAMPLES[name]!);
      add(`all/${name}.crlf`, SAMPLES[name]!);
      add(`all/${name}.auto`, SAMPLES[name]!);
      add(`all/${name}.idauto`, SAMPLES[name]!);
      add(`all/${name}.idcrlf`, SAMPLES[name]!);
    }
    for (const p of [
      'quoted name.q',
      'anchored.a',
      'sub/anchored.a',
      'docs/deep.md',
      'docs/a/b/c.md',
      'x/docs/c.md',
      'deep.d',
      'a/b/deep.d',
      'ab.cls',
      'bb.cls',
      'cb.cls',
      'a.cls',
      'xa.neg',
      'ya.neg',
      'Up.up',
      'up.up',
      'abc/x.p',
      'bc/x.p',
      'a/x.p',
      'sub/top.t',
      'sub/x/top.t',
      'sub/deeper/top.t',
      'sub/deeper/r.anch',
      'sub/deeper/x/r.anch',
      'dironly',
      'x/dironly',
    ]) {
      add(p, SAMPLES.lf!);
    }
    const { total, changed } = compare(entries, 'hand-written');
    assert.ok(total > 400 && changed > 100, `${changed}/${total} changed`);
    t.diagnostic(`${changed}/${total} files changed by git archive`);
  });

  test('macro and pattern edge cases', () => {
    const entries = new Map<string, RepoEntry>();
    const add = (path: string, content: string): void => void entries.set(path, { content: b(content) });
    add(
      '.gitattributes',
      [
        '[attr]binary eol=crlf',
        '[attr]text eol=crlf',
        '[attr]c1 c2',
        '[attr]c2 c1 eol=crlf',
        '[attr]early ident',
        '[attr]early eol=crlf',
        '[attr]chain1 chain2',
        '[attr]chain2 chain3',
        '[attr]chain3 text eol=crlf',
        '*.b binary',
        '*.t text',
        '*.c1 c1',
        '*.e early',
        '*.ch chain1',
        '*.chx -chain3 chain1',
        'pre/foo**/bar.pp eol=crlf',
        'pre/x*/**/q.pp eol=crlf',
        'pre/exact.pp eol=crlf',
        'pre/**/ss/** eol=crlf',
        '',
      ].join('\n'),
    );
    add('sub/.gitattributes', '*.t -text\n*.u text\n*.b2 binary\n');
    for (const ext of ['b', 't', 'c1', 'e', 'ch', 'chx', 'u', 'b2']) {
      add(`f.${ext}`, '$Id$\nx\n');
      add(`sub/f.${ext}`, 'a\nb\n');
    }
    for (const p of [
      'pre/foox/y/bar.pp',
      'pre/foo/bar.pp',
      'pre/fooz/bar.pp',
      'pre/bar.pp',
      'pre/xa/q.pp',
      'pre/xa/b/c/q.pp',
      'pre/x/q.pp',
      'pre/exact.pp',
      'pre/a/ss/b/c',
      'pre/ss/x',
      'pre/a/ss',
    ]) {
      add(p, 'a\nb\n');
    }
    const { changed } = compare(entries, 'macros');
    assert.ok(changed > 10);
  });

  test('seeded random attributes × contents', (t) => {
    let total = 0;
    let changed = 0;
    // GIT_ATTRIBUTES_SEEDS=500 runs a longer search; the default keeps this test at ~1 s.
    const seeds = Number(process.env.GIT_ATTRIBUTES_SEEDS ?? 5);
    for (let seed = 1; seed <= seeds; seed++) {
      const n = compare(randomRepo(seed), `seed ${seed}`);
      total += n.total;
      changed += n.changed;
    }
    assert.ok(total > 180 * seeds && changed > 20 * seeds, `${changed}/${total} changed`);
    t.diagnostic(`${changed}/${total} files changed by git archive`);
  });
});

function randomRepo(seed: number): Map<string, RepoEntry> {
  const r = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const dirNames = ['a', 'b', 'src', 'x.y', 'A', 'doc', 'ab', 'sp ace'];
  const baseNames = ['a', 'b', 'ab', 'main', 'README', 'x', 'Makefile', 'deep', 'z9', 'b[1]', 'st*r'];
  const exts = ['.txt', '.c', '.h', '.go', '.md', '.bin', '', '.TXT', '.x.c'];
  const dirs = new Set<string>(['']);
  while (dirs.size < 9) {
    const parent = pick([...dirs]);
    if (parent.split('/').length > 3) continue;
    dirs.add(parent === '' ? pick(dirNames) : `${parent}/${pick(dirNames)}`);
  }
  const dirList = [...dirs];
  const attrsPool = [
    'text',
    '-text',
    '!text',
    'text=auto',
    'text=input',
    'text=x',
    'eol=crlf',
    'eol=crlf',
    'eol=crlf',
    'eol=lf',
    '!eol',
    'crlf',
    '-crlf',
    'crlf=input',
    'binary',
    '-binary',
    'ident',
    '-ident',
    'm1',
    'm2',
    '-m1',
    'diff',
    'export-ignore',
  ];
  const patternFor = (dir: string): string => {
    const rel = dirList
      .filter((d) => d !== dir && (dir === '' || d.startsWith(dir + '/')))
      .map((d) => (dir === '' ? d : d.slice(dir.length + 1)));
    const base = pick(baseNames);
    const ext = pick(exts);
    const sub = rel.length > 0 ? pick(rel) : 'a';
    const forms = [
      '*',
      `*${ext}`,
      `${base}${ext}`,
      `${base}*`,
      `?${ext}`,
      `[a-m]*`,
      `[!a]*${ext}`,
      `[[:upper:]]*`,
      `*.[ch]`,
      `**/${base}${ext}`,
      `${sub}/**`,
      `/${base}${ext}`,
      `/*${ext}`,
      `${sub}/*`,
      `${sub}/**/*${ext}`,
      `**/${sub}/*`,
      `*/${base}${ext}`,
      `${sub.split('/')[0]}*/**`,
      `${base}${ext}/`,
      `!${base}`,
      `\\${base}`,
      `"${base}${ext}"`,
      `${sub}/${base}**`,
      `**`,
      `**/*`,
      `${sub}**`,
      `*${sub.slice(-1)}/**`,
      `[[:alpha:]][[:digit:]]*`,
      `[a-c][!0-9]`,
      `[]a]*`,
      `*[\\*]*`,
      `b\\[1]`,
      `**/${sub.split('/').pop()}/**`,
      `"sp ace/*"`,
      `"\\${base}"`,
      `${base}.[!c]*`,
      `*[[:space:]]*/*`,
    ];
    return pick(forms);
  };
  const entries = new Map<string, RepoEntry>();
  for (const dir of dirList) {
    if (dir !== '' && r() < 0.35) continue;
    const lines: string[] = [];
    if (dir === '' || r() < 0.2) {
      lines.push(`[attr]m1 ${pick(['text eol=crlf', 'eol=crlf', '-text', 'ident m2', 'text=auto eol=crlf'])}`);
      lines.push(`[attr]m2 ${pick(['eol=crlf', 'binary', 'crlf', '-m1'])}`);
    }
    const n = 2 + Math.floor(r() * 6);
    for (let i = 0; i < n; i++) {
      const k = 1 + Math.floor(r() * 3);
      const states: string[] = [];
      for (let j = 0; j < k; j++) states.push(pick(attrsPool));
      lines.push(`${patternFor(dir)} ${states.join(' ')}`);
    }
    entries.set(dir === '' ? '.gitattributes' : `${dir}/.gitattributes`, { content: b(lines.join('\n') + '\n') });
  }
  const samples = Object.values(SAMPLES);
  const atoms = [
    'a',
    'b',
    ' ',
    '\n',
    '\n',
    '\r',
    '\r\n',
    '\0',
    '$',
    'Id',
    '$Id$',
    '$Id:',
    '$Id: x $',
    ':',
    '\x1a',
    '\x01',
    '\x7f',
    '\xc3\xa9',
  ];
  while (entries.size < 200) {
    const dir = pick(dirList);
    const path = `${dir === '' ? '' : dir + '/'}${pick(baseNames)}${pick(exts)}`;
    if (entries.has(path) || dirs.has(path)) continue;
    let content: string;
    if (r() < 0.3) {
      content = '';
      for (let n = Math.floor(r() * 30); n > 0; n--) content += pick(atoms);
    } else {
      content = pick(samples);
      if (r() < 0.3) content = content + pick(samples);
    }
    entries.set(path, { content: b(content) });
  }
  return entries;
}

test('working-tree-encoding support is explicit', () => {
  assert.equal(isSupportedWorkingTreeEncoding('utf-16le'), true);
  for (const name of ['no-such-encoding', 'SHIFT-JIS', 'UTF-16LE//TRANSLIT']) {
    assert.equal(isSupportedWorkingTreeEncoding(name), false);
    assert.throws(
      () => applyArchiveFilter(b('x'), OID, { ident: false, eol: null, workingTreeEncoding: name }),
      UnsupportedWorkingTreeEncodingError,
    );
  }
  const f: ArchiveFilter = { ident: false, eol: 'crlf', workingTreeEncoding: 'UTF-16BE' };
  assert.equal(applyArchiveFilter(b('a\n'), OID, f).toString('hex'), '0061000d000a');
  assert.equal(applyArchiveFilter(b('a\xff\n'), OID, f).toString('hex'), '61ff0d0a', 'invalid UTF-8 stays as is');
});
