import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkZipFiles,
  cleanPath,
  createZipError,
  isVendoredPackage,
  MAX_GO_MOD,
  MAX_ZIP_FILE,
  type ZipCandidate,
} from '../../../src/xmod/zip-check.js';
import { loadGoReference, pick, seededRandom } from '../../helpers/go-reference.js';

function files(spec: Record<string, ZipCandidate['kind'] | number>): ZipCandidate[] {
  return Object.entries(spec).map(([path, v]) =>
    typeof v === 'number' ? { path, kind: 'file', size: v } : { path, kind: v, size: v === 'file' ? 3 : 0 },
  );
}

function keptPaths(list: ZipCandidate[], goLine: string | null = null): string[] {
  const checked = checkZipFiles(list, goLine);
  assert.equal(checked.error, null, `unexpected error: ${checked.error}`);
  assert.deepEqual(
    checked.kept.map((i) => list[i]!.path),
    checked.valid,
  );
  return checked.valid;
}

describe('file selection (spec §4.2, §6 cases 41–54)', () => {
  test('case 41: R basic (vendor, nested module, symlink)', () => {
    const list = files({
      '.gitattributes': 'file',
      LICENSE: 'file',
      'a b.txt': 'file',
      'a.go': 'file',
      'crlf.txt': 'file',
      'go.mod': 'file',
      'ident.txt': 'file',
      'ignored.txt': 'file',
      'link.go': 'symlink',
      'pkg/vendor/a.go': 'file',
      'pkg/vendor/sub/b.go': 'file',
      'sub/go.mod': 'file',
      'sub/s.go': 'file',
      'subst.txt': 'file',
      'testdata/x.json': 'file',
      'vendor/modules.txt': 'file',
      'vendor/top.go': 'file',
      'vendor/x/y.go': 'file',
    });
    assert.deepEqual(keptPaths(list), [
      '.gitattributes',
      'LICENSE',
      'a b.txt',
      'a.go',
      'crlf.txt',
      'go.mod',
      'ident.txt',
      'ignored.txt',
      'subst.txt',
      'testdata/x.json',
      'vendor/modules.txt',
      'vendor/top.go',
    ]);
    const checked = checkZipFiles(list, null);
    assert.deepEqual(checked.omitted, [
      { path: 'link.go', reason: 'file is a symbolic link' },
      { path: 'pkg/vendor/a.go', reason: 'file is in vendor directory' },
      { path: 'pkg/vendor/sub/b.go', reason: 'file is in vendor directory' },
      { path: 'sub/go.mod', reason: 'file is in another module' },
      { path: 'sub/s.go', reason: 'file is in another module' },
      { path: 'vendor/x/y.go', reason: 'file is in vendor directory' },
    ]);
  });

  test('case 42: R edge (symlinked go.mod is no module boundary; vendor files)', () => {
    const list = files({
      '.gitmodules': 'file',
      'a/vendor/modules.txt': 'file',
      'b/vendor': 'file',
      'c/vendor/d/e.go': 'file',
      dirlink: 'symlink',
      empty: 0,
      'exe.sh': 'file',
      'go.mod': 'file',
      'real.mod': 'file',
      'subl/go.mod': 'symlink',
      'subl/x.go': 'file',
      'vendorx/a.go': 'file',
    });
    assert.deepEqual(keptPaths(list), ['.gitmodules', 'b/vendor', 'empty', 'exe.sh', 'go.mod', 'real.mod', 'subl/x.go', 'vendorx/a.go']);
  });

  const zipErrors: [string, Record<string, ZipCandidate['kind']>, string][] = [
    [
      'v0.1.0',
      { 'README.md': 'file', 'Readme.md': 'file', 'go.mod': 'file' },
      'Readme.md: case-insensitive file name collision: "README.md" and "Readme.md"',
    ],
    ['v0.2.0', { 'a:b.go': 'file', 'go.mod': 'file' }, 'a:b.go: malformed file path "a:b.go": invalid char \':\''],
    [
      'v0.3.0',
      { 'aux.go': 'file', 'go.mod': 'file' },
      'aux.go: malformed file path "aux.go": "aux" disallowed as path element component on Windows',
    ],
    ['v0.6.0', { 'GO.MOD': 'file', 'go.mod': 'file' }, 'GO.MOD: go.mod files must have lowercase names'],
    ['v0.7.0', { 'a*b': 'file', 'go.mod': 'file' }, 'a*b: malformed file path "a*b": invalid char \'*\''],
    [
      'v0.9.0',
      { 'go.mod': 'file', 'Ａ.txt': 'file', 'ａ.txt': 'file' },
      'ａ.txt: case-insensitive file name collision: "Ａ.txt" and "ａ.txt"',
    ],
  ];
  for (const [version, spec, error] of zipErrors) {
    test(`case 43: names@${version} cannot be zipped`, () => {
      const checked = checkZipFiles(files(spec), null);
      assert.equal(checked.error, error);
      assert.equal(createZipError('github.com/testorg/names', version, checked), `create zip: ${error}`);
    });
  }

  test('case 45: sub/GO.MOD makes sub/ another module', () => {
    assert.deepEqual(keptPaths(files({ 'go.mod': 'file', 'sub/GO.MOD': 'file', 'sub/y.go': 'file' })), ['go.mod']);
  });

  test('case 46: only the root .hg_archival.txt is dropped; VCS-looking dirs stay', () => {
    const list = files({
      '.git2/x': 'file',
      '.hg/x': 'file',
      '.hg_archival.txt': 'file',
      '.hidden': 'file',
      'd/.hg_archival.txt': 'file',
      'file~1.go': 'file',
      'go.mod': 'file',
    });
    assert.deepEqual(keptPaths(list), ['.git2/x', '.hg/x', '.hidden', 'd/.hg_archival.txt', 'file~1.go', 'go.mod']);
    assert.deepEqual(checkZipFiles(list, null).omitted, [
      { path: '.hg_archival.txt', reason: "file is inserted by 'hg archive' and is always omitted" },
    ]);
  });

  test('case 47: a directory named go.mod is no module boundary', () => {
    assert.deepEqual(keptPaths(files({ 'a/go.mod/f.go': 'file', 'go.mod': 'file' })), ['a/go.mod/f.go', 'go.mod']);
  });

  test('case 49: a symlinked LICENSE is omitted', () => {
    const checked = checkZipFiles(files({ LICENSE: 'symlink', 'd.go': 'file', 'go.mod': 'file' }), null);
    assert.deepEqual(checked.valid, ['d.go', 'go.mod']);
    assert.deepEqual(checked.omitted, [{ path: 'LICENSE', reason: 'file is a symbolic link' }]);
  });

  test('case 52: the vendor rule follows the go line', () => {
    const list = files({
      'go.mod': 'file',
      'pkg/vendor/a.go': 'file',
      'pkg/vendor/sub/b.go': 'file',
      'vendor/modules.txt': 'file',
      'vendor/top.go': 'file',
      'vendor/x/y.go': 'file',
    });
    assert.deepEqual(keptPaths(list, '1.23'), ['go.mod', 'vendor/modules.txt', 'vendor/top.go']);
    assert.deepEqual(keptPaths(list, null), ['go.mod', 'vendor/modules.txt', 'vendor/top.go']);
    for (const goLine of ['1.24', '1.24.0', '1.24rc1', '1.25.3']) {
      assert.deepEqual(keptPaths(list, goLine), ['go.mod', 'pkg/vendor/a.go', 'vendor/top.go'], goLine);
    }
  });

  test('case 53: size limits', () => {
    const bigGoMod = checkZipFiles([{ path: 'go.mod', kind: 'file', size: MAX_GO_MOD + 1 }], null);
    assert.equal(bigGoMod.error, 'go.mod: go.mod file too large (max size is 16777216 bytes)');
    const okGoMod = checkZipFiles([{ path: 'go.mod', kind: 'file', size: MAX_GO_MOD }], null);
    assert.equal(okGoMod.error, null);
    const bigLicense = checkZipFiles(
      [
        { path: 'LICENSE', kind: 'file', size: MAX_GO_MOD + 1 },
        { path: 'x/LICENSE', kind: 'file', size: MAX_GO_MOD + 1 },
      ],
      null,
    );
    assert.equal(bigLicense.error, 'LICENSE: LICENSE file too large (max size is 16777216 bytes)');
    const tooMuch = checkZipFiles(
      [
        { path: 'a', kind: 'file', size: MAX_ZIP_FILE - 10 },
        { path: 'b', kind: 'file', size: 11 },
        { path: 'c:', kind: 'file', size: 1 },
      ],
      null,
    );
    assert.equal(tooMuch.sizeError, 'module source tree too large (max size is 524288000 bytes)');
    assert.equal(tooMuch.error, tooMuch.sizeError, 'the size error wins over invalid files');
    assert.deepEqual(tooMuch.valid, ['a', 'b']);
    const exact = checkZipFiles(
      [
        { path: 'a', kind: 'file', size: MAX_ZIP_FILE - 10 },
        { path: 'b', kind: 'file', size: 10 },
      ],
      null,
    );
    assert.equal(exact.error, null);
  });

  test('case 54: empty files are kept', () => {
    assert.deepEqual(keptPaths(files({ empty: 0, 'go.mod': 'file' })), ['empty', 'go.mod']);
  });
});

describe('collisions and path shapes', () => {
  const cases: [ZipCandidate[], string][] = [
    [files({ a: 'file', 'a/b': 'file' }), 'a/b: entry "a" is both a file and a directory'],
    [files({ 'a/b': 'file', a: 'file' }), 'a: entry "a" is both a file and a directory'],
    [[...files({ 'x.go': 'file' }), ...files({ 'x.go': 'file' })], 'x.go: multiple entries for file "x.go"'],
    [files({ 'A/x.go': 'file', 'a/y.go': 'file' }), 'a/y.go: case-insensitive file name collision: "A" and "a"'],
    [files({ 'k.txt': 'file', '\u212a.txt': 'file' }), '\u212a.txt: case-insensitive file name collision: "k.txt" and "\u212a.txt"'],
    [files({ '\u03a3': 'file', '\u03c2': 'file' }), '\u03c2: case-insensitive file name collision: "\u03a3" and "\u03c2"'],
    [files({ './a': 'file' }), './a: file path is not clean'],
    [files({ 'a//b': 'file' }), 'a//b: file path is not clean'],
    [files({ 'a/../b': 'file' }), 'a/../b: file path is not clean'],
    [files({ 'a/': 'file' }), 'a/: file path is not clean'],
    [files({ '/abs': 'file' }), '/abs: file path is not relative'],
    [
      files({ 'x:y': 'file', 'z*': 'file' }),
      'x:y: malformed file path "x:y": invalid char \':\'\nz*: malformed file path "z*": invalid char \'*\'',
    ],
    [
      [{ path: 'bad\ufffd.go', kind: 'file', size: 1, invalidUtf8: true }],
      'bad\ufffd.go: malformed file path "bad\ufffd.go": invalid UTF-8',
    ],
  ];
  for (const [list, error] of cases) {
    test(`${list.map((f) => f.path).join(', ')} → ${error.split('\n')[0]}`, () => {
      assert.equal(checkZipFiles(list, null).error, error);
    });
  }
  test('invalid names inside vendored packages and nested modules are only omitted', () => {
    const list = files({ 'go.mod': 'file', 'vendor/a/b:c.go': 'file', 'sub/go.mod': 'file', 'sub/a*b': 'file', 'İ/vendor/x': 'file' });
    const checked = checkZipFiles(list, null);
    assert.equal(checked.error, null);
    assert.deepEqual(checked.valid, ['go.mod']);
  });
  test('a path is reported once even if it fails twice', () => {
    const checked = checkZipFiles([...files({ 'a:b': 'file' }), ...files({ 'a:b': 'file' })], null);
    assert.equal(checked.invalid.length, 1);
  });
  test('directories and other entries are omitted as not regular', () => {
    const checked = checkZipFiles(files({ d: 'directory', p: 'other', 'd/x': 'file' }), null);
    assert.deepEqual(checked.valid, ['d/x']);
    assert.deepEqual(checked.omitted, [
      { path: 'd', reason: 'not a regular file' },
      { path: 'p', reason: 'not a regular file' },
    ]);
  });
  test('cleanPath is path.Clean', () => {
    const cases: [string, string][] = [
      ['', '.'],
      ['a/b/', 'a/b'],
      ['a//b', 'a/b'],
      ['./a', 'a'],
      ['a/../..', '..'],
      ['/..', '/'],
      ['/a/./b/../c', '/a/c'],
      ['..//x', '../x'],
    ];
    for (const [p, want] of cases) {
      assert.equal(cleanPath(p), want, p);
    }
  });
});

describe('isVendoredPackage', () => {
  const cases: [string, boolean, boolean][] = [
    // name, old rule (Go ≤ 1.23), Go 1.24 rule
    ['vendor/x.go', false, false],
    ['vendor/modules.txt', false, true],
    ['vendor/x/y.go', true, true],
    ['pkg/vendor/a.go', true, false],
    ['pkg/vendor/sub/b.go', true, true],
    ['a/vendor/modules.txt', true, false],
    ['c/vendor/d/e.go', true, true],
    ['b/vendor', false, false],
    ['vendorx/a.go', false, false],
    ['x/vendorx/a.go', false, false],
    ['ééééé/vendor/x', true, false], // byte offsets, not UTF-16 ones
  ];
  for (const [name, old, go124] of cases) {
    test(`${name}: old ${old}, go1.24 ${go124}`, () => {
      assert.equal(isVendoredPackage(name, null), old);
      assert.equal(isVendoredPackage(name, '1.23.9'), old);
      assert.equal(isVendoredPackage(name, '1.24'), go124);
    });
  }
});

describe('createZipError', () => {
  const ok = checkZipFiles(files({ 'go.mod': 'file' }), null);
  test('checks the version and module path first', () => {
    assert.equal(createZipError('example.com/m', 'v1.0.0', ok), null);
    assert.equal(createZipError('example.com/m', 'v1.0', ok), 'create zip: version "v1.0" is not canonical (should be "v1.0.0")');
    assert.equal(
      createZipError('example.com/m', 'v2.0.0', ok),
      'create zip: example.com/m@v2.0.0: invalid version: should be v0 or v1, not v2',
    );
    assert.equal(createZipError('example.com/m', 'v2.0.0+incompatible', ok), null);
    assert.equal(
      createZipError('Example.com/m', 'v1.0.0', ok),
      'create zip: malformed module path "Example.com/m": invalid char \'E\' in first path element',
    );
  });
});

const ref = await loadGoReference();

test('matches zip.CheckFiles and zip.Create errors (x/mod v0.7.0)', { skip: 'skip' in ref ? ref.skip : false }, async () => {
  assert.ok(!('skip' in ref));
  const rand = seededRandom(0x21b);
  const elems = [
    'vendor',
    'vendor',
    'pkg',
    'a',
    'A',
    'b',
    'go.mod',
    'go.mod',
    'GO.MOD',
    'Go.Mod',
    'LICENSE',
    'license',
    'x.go',
    'modules.txt',
    '.hg_archival.txt',
    'sub',
    'é',
    'Ａ',
    'ａ',
    '\u212a',
    'k',
    'K',
    'a:b',
    'aux.go',
    'con',
    '.',
    '..',
    '',
    'testdata',
    'b c',
    'file~1',
    '.git',
    'vendorx',
    '\u03a3',
    '\u03c2',
    '\u03c3',
    'İ',
    'i',
    '\u{1d400}',
    '🙂',
  ];
  type Req = { op: 'zip'; files: { name: string; kind: ZipCandidate['kind']; size: number }[]; modPath: string; modVersion: string };
  const reqs: Req[] = [];
  for (let i = 0; i < 800; i++) {
    const n = 1 + Math.floor(rand() * 7);
    const list: Req['files'] = [];
    for (let j = 0; j < n; j++) {
      const depth = 1 + Math.floor(rand() * 3);
      let name = Array.from({ length: depth }, () => pick(rand, elems)).join('/');
      if (rand() < 0.03) {
        name = '/' + name;
      }
      const kind = rand() < 0.85 ? 'file' : pick(rand, ['symlink', 'directory', 'other'] as const);
      const size = rand() < 0.9 ? Math.floor(rand() * 100) : pick(rand, [MAX_GO_MOD, MAX_GO_MOD + 1, 200 * 1024 * 1024, MAX_ZIP_FILE]);
      list.push({ name, kind, size });
    }
    if (rand() < 0.2 && list.length > 0) {
      list.push({ ...list[0]! }); // duplicates
    }
    const [modPath, modVersion] = pick(rand, [
      ['example.com/m', 'v1.0.0'],
      ['example.com/m', 'v1.0.0'],
      ['example.com/m', 'v1.0.0'],
      ['example.com/m', 'v1.0'],
      ['example.com/m/v2', 'v1.0.0'],
      ['Example.com/m', 'v1.0.0'],
      ['example.com/m', 'v2.0.0+incompatible'],
    ]);
    reqs.push({ op: 'zip', files: list, modPath, modVersion });
  }
  type Answer = {
    valid: string[];
    omitted: [string, string][];
    invalid: [string, string][];
    sizeError: string;
    err: string;
    createErr: string;
  };
  const answers = await ref.ask<Answer>(reqs);
  let zippable = 0;
  answers.forEach((want, i) => {
    const req = reqs[i]!;
    const candidates = req.files.map((f) => ({ path: f.name, kind: f.kind, size: f.size }));
    const checked = checkZipFiles(candidates, null);
    const got: Answer = {
      valid: checked.valid,
      omitted: checked.omitted.map((e) => [e.path, e.reason]),
      invalid: checked.invalid.map((e) => [e.path, e.reason]),
      sizeError: checked.sizeError ?? '',
      err: checked.error ?? '',
      createErr: createZipError(req.modPath, req.modVersion, checked) ?? '',
    };
    assert.deepEqual(got, want, JSON.stringify(req));
    if (want.err === '' && want.valid.length > 0) {
      zippable++;
    }
  });
  assert.ok(zippable > 100, `only ${zippable} zippable file sets generated`);
});
