import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  canonicalVersion,
  check,
  checkFilePath,
  checkImportPath,
  checkPath,
  checkPathMajor,
  EscapeError,
  escapePath,
  escapeVersion,
  goQuote,
  goQuoteRune,
  InvalidVersionError,
  matchPathMajor,
  pathMajorPrefix,
  splitPathVersion,
  unescapePath,
  unescapeVersion,
} from '../../../src/xmod/module-path.js';
import { loadGoReference, pick, seededRandom } from '../../helpers/go-reference.js';

describe('case encoding (spec §1.2)', () => {
  const paths: [string, string][] = [
    ['github.com/TestOrg/Upper', 'github.com/!test!org/!upper'],
    ['github.com/Azure/azure-sdk-for-go', 'github.com/!azure/azure-sdk-for-go'],
    ['github.com/GoogleCloudPlatform/cloudsql-proxy', 'github.com/!google!cloud!platform/cloudsql-proxy'],
    ['example.com/mod/v2', 'example.com/mod/v2'],
  ];
  for (const [path, escaped] of paths) {
    test(`${path} ⇄ ${escaped}`, () => {
      assert.equal(escapePath(path), escaped);
      assert.equal(unescapePath(escaped), path);
    });
  }
  const versions: [string, string][] = [
    ['v1.0.0-RC1', 'v1.0.0-!r!c1'],
    ['v2.0.0+incompatible', 'v2.0.0+incompatible'],
    ['feat~x', 'feat~x'],
    ['x@y', 'x@y'],
    ['a%b', 'a%b'],
    ['master', 'master'],
  ];
  for (const [v, escaped] of versions) {
    test(`version ${v} ⇄ ${escaped}`, () => {
      assert.equal(escapeVersion(v), escaped);
      assert.equal(unescapeVersion(escaped), v);
    });
  }

  test('a branch with a slash cannot be escaped', () => {
    assert.throws(() => escapeVersion('feature/x'), {
      name: 'InvalidVersionError',
      message: 'version "feature/x" invalid: disallowed version string',
    });
    assert.throws(() => escapeVersion('a!b'), InvalidVersionError);
  });

  const badPaths: [string, string][] = [
    ['github.com/TestOrg/x', 'invalid escaped module path "github.com/TestOrg/x"'],
    ['github.com/!1x/y', 'invalid escaped module path "github.com/!1x/y"'],
    ['github.com/x/y!', 'invalid escaped module path "github.com/x/y!"'],
    ['github.com/x/!!y', 'invalid escaped module path "github.com/x/!!y"'],
    ['github.com/\u00e9/y', 'invalid escaped module path "github.com/é/y"'],
    [
      'github.com/%21test%21org/%21upper',
      'invalid escaped module path "github.com/%21test%21org/%21upper": malformed module path "github.com/%21test%21org/%21upper": invalid char \'%\'',
    ],
    ['example.com/x/v1', 'invalid escaped module path "example.com/x/v1": malformed module path "example.com/x/v1": invalid version'],
  ];
  for (const [escaped, message] of badPaths) {
    test(`unescapePath(${JSON.stringify(escaped)}) fails`, () => {
      assert.throws(() => unescapePath(escaped), { name: 'EscapeError', message });
    });
  }
  test('the percent-decoded form of the wire path works', () => {
    assert.equal(unescapePath(decodeURIComponent('github.com/%21test%21org/%21upper')), 'github.com/TestOrg/Upper');
    assert.equal(unescapeVersion(decodeURIComponent('v1.0.0-%21r%21c1')), 'v1.0.0-RC1');
  });
  const badVersions: [string, string][] = [
    ['v1.0.0-RC1', 'invalid escaped version "v1.0.0-RC1"'],
    ['v1.0.0-!1', 'invalid escaped version "v1.0.0-!1"'],
    ['v1!', 'invalid escaped version "v1!"'],
    ['a/b', 'invalid escaped version "a/b": invalid char \'/\''],
    ['..', 'invalid escaped version "..": invalid path element ".."'],
    ['', 'invalid escaped version "": empty path element'],
  ];
  for (const [escaped, message] of badVersions) {
    test(`unescapeVersion(${JSON.stringify(escaped)}) fails`, () => {
      assert.throws(
        () => unescapeVersion(escaped),
        (err: unknown) => err instanceof EscapeError && err.message === message,
      );
    });
  }
});

describe('checkPath / checkImportPath / checkFilePath', () => {
  const modulePaths: [string, string | null][] = [
    ['github.com/org/repo', null],
    ['github.com/org/repo/v2', null],
    ['example.com/x~y', null],
    ['gopkg.in/yaml.v2', null],
    ['gopkg.in/yaml.v0', null],
    ['gopkg.in/yaml.v2-unstable', null],
    ['gopkg.in/yaml', 'invalid version'],
    ['gopkg.in/yaml.v01', 'invalid version'],
    ['example.com/m/v1', 'invalid version'],
    ['example.com/m/v0', 'invalid version'],
    ['example.com/m/v02', 'invalid version'],
    ['example.com/m/v2.0', 'invalid version'],
    ['example.com/m/v2x', null],
    ['example', 'missing dot in first path element'],
    ['-example.com', 'leading dash'],
    ['Example.com/x', "invalid char 'E' in first path element"],
    ['example.com//x', 'double slash'],
    ['example.com/x/', 'trailing slash'],
    ['', 'empty string'],
    ['example.com/.x', 'leading dot in path element'],
    ['example.com/x.', 'trailing dot in path element'],
    ['example.com/..', 'invalid path element ".."'],
    ['example.com/con', '"con" disallowed as path element component on Windows'],
    ['example.com/CON.txt', '"CON" disallowed as path element component on Windows'],
    ['example.com/com1x', null],
    ['example.com/file~1', 'trailing tilde and digits in path element'],
    ['example.com/file~1.go', 'trailing tilde and digits in path element'],
    ['example.com/file~', null],
    ['example.com/a+b', "invalid char '+'"],
    ['example.com/\u00e9', "invalid char 'é'"],
    ['example.com/a\x00', "invalid char '\\x00'"],
    ['example.com/a\ud800', 'invalid UTF-8'],
  ];
  for (const [path, reason] of modulePaths) {
    test(`module path ${JSON.stringify(path)}`, () => {
      const err = checkPath(path);
      if (reason === null) {
        assert.equal(err, null);
      } else {
        assert.equal(err?.message, `malformed module path ${goQuote(path)}: ${reason}`);
        assert.equal(err?.reason, reason);
      }
    });
  }

  test('import paths allow "+", leading dots and no domain', () => {
    assert.equal(checkImportPath('example.com/g++'), null);
    assert.equal(checkImportPath('fmt'), null);
    assert.equal(checkImportPath('x/.y'), null);
    assert.equal(checkImportPath('x/a:b')?.message, 'malformed import path "x/a:b": invalid char \':\'');
  });

  // Case 43/46/47 names (spec §4.2): which file names a module zip may contain.
  const filePaths: [string, string | null][] = [
    ['file~1.go', null],
    ['.hidden', null],
    ['.hg/x', null],
    ['a b.txt', null],
    ['-x', null],
    ['\u00e9.txt', null],
    ['\u{1d400}.txt', null],
    ['\uff22.txt', null],
    ['a/go.mod/f.go', null],
    ['a!#$%&()+,-.=@[]^_{}~ b', null],
    ['a:b.go', "invalid char ':'"],
    ['a*b', "invalid char '*'"],
    ['a"b', "invalid char '\"'"],
    ["a'b", "invalid char '\\''"],
    ['a\\b', "invalid char '\\\\'"],
    ['aux.go', '"aux" disallowed as path element component on Windows'],
    ['x/LPT9.txt', '"LPT9" disallowed as path element component on Windows'],
    ['\u{1f642}.txt', "invalid char '🙂'"],
    ['e\u0301.txt', "invalid char '\u0301'"], // a combining mark is printable, so %q keeps it
    ['x\u00a0y', "invalid char '\\u00a0'"],
    ['a/../b', 'invalid path element ".."'],
    ['a/', 'trailing slash'],
  ];
  for (const [path, reason] of filePaths) {
    test(`file path ${JSON.stringify(path)}`, () => {
      const err = checkFilePath(path);
      assert.equal(err === null ? null : err.message, reason === null ? null : `malformed file path ${goQuote(path)}: ${reason}`);
    });
  }

  test('letters from Unicode versions newer than Go 1.19 (13.0) are not letters', () => {
    // U+1E290 TOTO LETTER PA arrived in Unicode 14; JavaScript's \p{L} knows it, Go 1.19 does not.
    assert.match('\u{1e290}', /\p{L}/u);
    assert.notEqual(checkFilePath('\u{1e290}.txt'), null);
  });
});

describe('major versions', () => {
  test('splitPathVersion', () => {
    assert.deepEqual(splitPathVersion('example.com/m/v2'), { prefix: 'example.com/m', pathMajor: '/v2', ok: true });
    assert.deepEqual(splitPathVersion('example.com/m'), { prefix: 'example.com/m', pathMajor: '', ok: true });
    assert.deepEqual(splitPathVersion('example.com/m/v1'), { prefix: 'example.com/m/v1', pathMajor: '', ok: false });
    assert.deepEqual(splitPathVersion('gopkg.in/yaml.v2'), { prefix: 'gopkg.in/yaml', pathMajor: '.v2', ok: true });
    assert.deepEqual(splitPathVersion('gopkg.in/yaml.v2-unstable'), {
      prefix: 'gopkg.in/yaml',
      pathMajor: '.v2-unstable',
      ok: true,
    });
  });
  const majors: [string, string, string | null][] = [
    ['v1.2.3', '', null],
    ['v0.1.0', '', null],
    ['v2.0.0+incompatible', '', null],
    ['v2.0.0', '', 'version "v2.0.0" invalid: should be v0 or v1, not v2'],
    ['v2.1.0', '/v2', null],
    ['v3.0.0', '/v2', 'version "v3.0.0" invalid: should be v2, not v3'],
    ['v1.0.0', '.v1', null],
    ['v0.0.0-20161208181325-20d25e280405', '.v1', null],
    ['v2.0.0', '.v2-unstable', null],
    ['v0.1.0', '.v0', null],
  ];
  for (const [v, pathMajor, message] of majors) {
    test(`checkPathMajor(${v}, ${JSON.stringify(pathMajor)})`, () => {
      assert.equal(checkPathMajor(v, pathMajor)?.message ?? null, message);
      assert.equal(matchPathMajor(v, pathMajor), message === null);
    });
  }
  test('pathMajorPrefix', () => {
    assert.equal(pathMajorPrefix(''), '');
    assert.equal(pathMajorPrefix('/v2'), 'v2');
    assert.equal(pathMajorPrefix('.v2-unstable'), 'v2');
    assert.throws(() => pathMajorPrefix('v2'));
    assert.throws(() => pathMajorPrefix('/x2'));
  });
  test('canonicalVersion keeps +incompatible only', () => {
    assert.equal(canonicalVersion('v2.0.0+incompatible'), 'v2.0.0+incompatible');
    assert.equal(canonicalVersion('v2+incompatible'), '');
    assert.equal(canonicalVersion('v1.2'), 'v1.2.0');
    assert.equal(canonicalVersion('v1.3.0+meta'), 'v1.3.0');
    assert.equal(canonicalVersion('vfoo'), '');
  });
  const checks: [string, string, string | null][] = [
    ['github.com/testorg/noinc', 'v2.0.0+incompatible', null],
    ['github.com/testorg/noinc', 'v2.0.0', 'github.com/testorg/noinc@v2.0.0: invalid version: should be v0 or v1, not v2'],
    ['github.com/testorg/mono/v2', 'v2.0.0', null],
    ['github.com/testorg/mono/v2', 'v1.0.0', 'github.com/testorg/mono/v2@v1.0.0: invalid version: should be v2, not v1'],
    ['github.com/testorg/mono', 'main', 'github.com/testorg/mono@main: invalid version: not a semantic version'],
    ['github.com/x/v1', 'v1.0.0', 'malformed module path "github.com/x/v1": invalid version'],
  ];
  for (const [path, version, message] of checks) {
    test(`check(${path}, ${version})`, () => {
      assert.equal(check(path, version)?.message ?? null, message);
    });
  }
});

describe('Go quoting', () => {
  test('goQuote and goQuoteRune follow strconv', () => {
    assert.equal(goQuote('a"b\\c\n\x00\x7f\u00e9\u00a0\u{1f642}\u{e0001}'), '"a\\"b\\\\c\\n\\x00\\x7fé\\u00a0🙂\\U000e0001"');
    assert.equal(goQuoteRune(0x27), "'\\''");
    assert.equal(goQuoteRune(0x22), "'\"'");
  });
});

const ref = await loadGoReference();

test('matches golang.org/x/mod/module on random paths and versions', { skip: 'skip' in ref ? ref.skip : false }, async () => {
  assert.ok(!('skip' in ref));
  const rand = seededRandom(0x90d);
  const elems = [
    'github.com',
    'gopkg.in',
    'example.com',
    'Example.com',
    'ex-ample.com',
    '-x.com',
    'nodot',
    'Foo',
    'foo',
    'v2',
    'v1',
    'v0',
    'v02',
    'v2.0',
    'v10',
    'yaml.v2',
    'yaml.v0',
    'yaml.v01',
    'yaml.v2-unstable',
    '.hidden',
    '-dash',
    'con',
    'CON.txt',
    'com1',
    'Lpt9.go',
    'aux',
    'file~1',
    'file~1.go',
    'a~b',
    'x~',
    'x.',
    '..',
    '.',
    '',
    '\u00e9',
    'a:b',
    'a b',
    '!x',
    '!!',
    'x!',
    'a+b',
    'A',
    'Z9',
    '\uff41',
    '\u{1f642}',
    'x\u0301',
    '~',
    '_',
    'a%b',
    '@',
    'v1.0.0-RC1',
    'v1.0.0-!r!c1',
    'feature',
    'k\u212a',
    '\u0130',
    '\u{1e290}',
    'a\tb',
    '#',
    '[x]',
    '{y}',
    '=',
    '^',
    '&',
    'g++',
  ];
  const paths: string[] = [];
  for (let i = 0; i < 2500; i++) {
    const n = 1 + Math.floor(rand() * 4);
    let p = Array.from({ length: n }, () => pick(rand, elems)).join('/');
    if (rand() < 0.05) {
      p = '/' + p;
    }
    if (rand() < 0.05) {
      p += '/';
    }
    paths.push(p);
  }
  type PathAnswer = {
    checkPath: string;
    checkImportPath: string;
    checkFilePath: string;
    escapePath: string;
    escapePathErr: string;
    escapeVersion: string;
    escapeVersionErr: string;
    unescapePath: string;
    unescapePathErr: string;
    unescapeVersion: string;
    unescapeVersErr: string;
    split: [string, string, boolean];
  };
  const attempt = (f: () => string): [string, string] => {
    try {
      return [f(), ''];
    } catch (err) {
      return ['', (err as Error).message];
    }
  };
  const answers = await ref.ask<PathAnswer>(paths.map((path) => ({ op: 'path', path })));
  let validModules = 0;
  answers.forEach((want, i) => {
    const p = paths[i]!;
    const [escPath, escPathErr] = attempt(() => escapePath(p));
    const [escVers, escVersErr] = attempt(() => escapeVersion(p));
    const [unPath, unPathErr] = attempt(() => unescapePath(p));
    const [unVers, unVersErr] = attempt(() => unescapeVersion(p));
    const split = splitPathVersion(p);
    const got: PathAnswer = {
      checkPath: checkPath(p)?.message ?? '',
      checkImportPath: checkImportPath(p)?.message ?? '',
      checkFilePath: checkFilePath(p)?.message ?? '',
      escapePath: escPath,
      escapePathErr: escPathErr,
      escapeVersion: escVers,
      escapeVersionErr: escVersErr,
      unescapePath: unPath,
      unescapePathErr: unPathErr,
      unescapeVersion: unVers,
      unescapeVersErr: unVersErr,
      split: [split.prefix, split.pathMajor, split.ok],
    };
    assert.deepEqual(got, want, `path ${JSON.stringify(p)}`);
    if (want.checkPath === '') {
      validModules++;
    }
  });
  assert.ok(validModules > 100, `only ${validModules} valid module paths generated`);

  const versions = [
    'v0.1.0',
    'v1.2.3',
    'v2.0.0',
    'v2.0.0+incompatible',
    'v3.1.0-pre+incompatible',
    'v0.0.0-20161208181325-20d25e280405',
    'v1.0.0-20161208181325-20d25e280405',
    'v2',
    'v1.2',
    'vfoo',
    '',
    'v10.0.0',
    'v2.0.0+meta',
    'v01.0.0',
  ];
  const pathMajors = ['', '/v2', '/v3', '/v10', '.v0', '.v1', '.v2', '.v2-unstable', '.v1-unstable', 'v2', '/x', '/v', '.', '/v02'];
  const majorReqs = versions.flatMap((v) => pathMajors.map((major) => ({ op: 'major', v, major })));
  type MajorAnswer = {
    checkPathMajor: string;
    matchPathMajor: boolean;
    pathMajorPrefix: string;
    prefixPanics: boolean;
    canonicalVersion: string;
  };
  const majorAnswers = await ref.ask<MajorAnswer>(majorReqs);
  majorAnswers.forEach((want, i) => {
    const { v, major } = majorReqs[i]!;
    const [prefix, prefixErr] = attempt(() => pathMajorPrefix(major));
    assert.deepEqual(
      {
        checkPathMajor: checkPathMajor(v, major)?.message ?? '',
        matchPathMajor: matchPathMajor(v, major),
        pathMajorPrefix: prefix,
        prefixPanics: prefixErr !== '',
        canonicalVersion: canonicalVersion(v),
      },
      want,
      `v=${v} pathMajor=${major}`,
    );
  });

  const modPaths = [
    'github.com/x/y',
    'github.com/x/y/v2',
    'gopkg.in/yaml.v1',
    'gopkg.in/yaml.v2-unstable',
    'github.com/X/y',
    'x/y',
    'github.com/x/v1',
  ];
  const checkReqs = modPaths.flatMap((path) => versions.map((version) => ({ op: 'check', path, version })));
  const checkAnswers = await ref.ask<string>(checkReqs);
  checkAnswers.forEach((want, i) => {
    const { path, version } = checkReqs[i]!;
    assert.equal(check(path, version)?.message ?? '', want, `check(${path}, ${version})`);
  });
});
