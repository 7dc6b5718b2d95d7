import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  compareGoVersions,
  GoModParseError,
  goLang,
  goLangAtLeast,
  goUnquote,
  goVersion,
  isRetracted,
  modulePath,
  parseGoModLax,
  retractions,
} from '../../../src/xmod/modfile.js';
import { loadGoReference, pick, seededRandom } from '../../helpers/go-reference.js';

describe('modulePath (modfile.ModulePath)', () => {
  const cases: [string, string | null][] = [
    ['module example.com/m\n', 'example.com/m'],
    ['// header\n\nmodule example.com/m // trailing\n\ngo 1.16\n', 'example.com/m'],
    ['module "example.com/q"\n', 'example.com/q'],
    ['module `example.com/raw`\n', 'example.com/raw'],
    ['module "example.com/\\u00e9"\n', 'example.com/é'],
    ['module "unterminated\n', null],
    ['module ""\n', null],
    ['module (\n\texample.com/block\n)\n', '('], // ModulePath does not understand the block form
    ['modulex example.com/m\n', null],
    ['module\n', null],
    ['module example.com/m\r\n', 'example.com/m'],
    ['module\u00a0example.com/nbsp\n', 'example.com/nbsp'],
    ['   module   a b  \n', 'a b'],
    ['go 1.16\nmodule first\nmodule second\n', 'first'],
    ['', null],
    ['require x v1.0.0\n', null],
    ['module example.com/no-newline', 'example.com/no-newline'],
  ];
  for (const [text, want] of cases) {
    test(`${JSON.stringify(text)} → ${JSON.stringify(want)}`, () => {
      assert.equal(modulePath(text), want);
      assert.equal(modulePath(Buffer.from(text)), want);
    });
  }
});

describe('goVersion (go line as modfile.ParseLax sees it)', () => {
  const cases: [string, string | null, string | null][] = [
    // text, latest x/mod, x/mod v0.7.0
    ['module m\n\ngo 1.16\n', '1.16', '1.16'],
    ['module m\ngo 1.24.0\n', '1.24.0', '1.24'],
    ['module m\ngo 1.24rc1\n', '1.24rc1', '1.24'],
    ['module m\ngo 1.21.x\n', '1.21', '1.21'],
    ['module m\ngo v1.21\n', null, null], // not even lax mode fixes this
    ['module m\ngo 1\n', null, null],
    ['module m\n', null, null],
    ['go 1.16\ngo 1.17\n', null, null], // repeated go statement
    ['module m\ngo 1.20\n/* no */\n', null, null],
    ['\ufeffmodule m\ngo 1.20\n', null, null], // a BOM is an unexpected input character
    ['module m\ngo 1.20\nrequire example.com/x/v2 v1.0.0\n', null, null],
    ['module m\ngo 1.20\nrequire example.com/x v1\n', '1.20', '1.20'],
    ['module m\ngo 1.20\nreplace garbage\nexclude too many args here\nfoo bar\ntoolchain go1.21\n', '1.20', '1.20'],
    ['module m\ngo 1.20\nrequire (\n', null, null],
    ['module m\ngo 1.20 // comment\n', '1.20', '1.20'],
    ['module m\r\ngo 1.22\r\n', '1.22', '1.22'],
    ['module m\ngo "1.22"\n', null, null],
    ['module m\nretract [v1.0.0\ngo 1.23.9\n', '1.23.9', '1.23'], // a bad retract is dropped in lax mode
  ];
  for (const [text, latest, v07] of cases) {
    test(`${JSON.stringify(text)} → ${JSON.stringify(latest)} / ${JSON.stringify(v07)}`, () => {
      assert.equal(goVersion(text), latest);
      let legacy: string | null;
      try {
        legacy = parseGoModLax(text, { xmod: 'v0.7' }).go;
      } catch (err) {
        assert.ok(err instanceof GoModParseError);
        legacy = null;
      }
      assert.equal(legacy, v07);
    });
  }

  test('error messages follow modfile.Error', () => {
    const message = (text: string): string => {
      try {
        parseGoModLax(text);
        return '';
      } catch (err) {
        return (err as Error).message;
      }
    };
    assert.equal(message('go 1.16\ngo 1.17\n'), 'go.mod:2: repeated go statement');
    assert.equal(message('module m\n  go 1\n'), "go.mod:2:3: invalid go version '1': must match format 1.23");
    assert.equal(message('module m\ngo 1.2 x\n'), 'go.mod:2: go directive expects exactly one argument');
    assert.equal(message('module m\nx\x00\n'), "go.mod:2:2: unexpected input character '\\x00'");
    assert.equal(message('module m\nrequire (\n'), 'go.mod:3: syntax error (unterminated block started at go.mod:2:1)');
    assert.equal(message('module "m\n'), 'go.mod:1:10: unexpected newline in string');
    assert.equal(
      message('module m\nrequire example.com/x/v2 v1.0.0\n'),
      'go.mod:2: require example.com/x/v2: version "v1.0.0" invalid: should be v2, not v1',
    );
    assert.equal(message('require x vbad\n'), 'go.mod:1: require x: version "vbad" invalid: must be of the form v1.2.3');
    assert.equal(message('module a\nmodule b\n'), 'go.mod:2: repeated module statement');
  });

  test('require entries are canonicalised', () => {
    assert.deepEqual(
      parseGoModLax('module m\nrequire (\n\texample.com/x v1.2 // indirect\n\t"example.com/y" v2.0.0+incompatible\n)\n').require,
      [
        { path: 'example.com/x', version: 'v1.2.0' },
        { path: 'example.com/y', version: 'v2.0.0+incompatible' },
      ],
    );
  });
});

describe('go/version comparisons for the vendor rule', () => {
  const atLeast124: [string | null, boolean][] = [
    ['1.24', true],
    ['1.24.0', true],
    ['1.24.3', true],
    ['1.24rc1', true],
    ['1.25', true],
    ['2.0', true],
    ['1.100', true],
    ['1.23.9', false],
    ['1.23', false],
    ['1.3', false],
    ['1.9', false],
    ['1', false],
    ['abc', false],
    [null, false],
  ];
  for (const [line, want] of atLeast124) {
    test(`go ${JSON.stringify(line)} ≥ 1.24: ${want}`, () => {
      assert.equal(goLangAtLeast(line, '1.24'), want);
    });
  }
  test('goLang and compareGoVersions', () => {
    assert.equal(goLang('go1.21rc2'), 'go1.21');
    assert.equal(goLang('go1.21.2'), 'go1.21');
    assert.equal(goLang('go1'), 'go1');
    assert.equal(goLang('go1.0'), 'go1');
    assert.equal(goLang('bad'), '');
    assert.equal(goLang('1.21'), '');
    assert.equal(compareGoVersions('go1.21', 'go1.21rc1'), -1);
    assert.equal(compareGoVersions('go1.21rc1', 'go1.21.0'), -1);
    assert.equal(compareGoVersions('go1.20', 'go1.20.0'), 0);
    assert.equal(compareGoVersions('go1.21beta1', 'go1.21rc1'), -1);
    assert.equal(compareGoVersions('', 'bad'), 0);
    assert.equal(compareGoVersions('go1.9', 'go1.10'), -1);
  });
});

describe('retractions', () => {
  const text = [
    'module example.com/retr',
    '',
    'go 1.16',
    '',
    'retract v1.1.0 // broken',
    'retract [v1.3.0, v1.4.0] // range',
    'retract (',
    '\t// a comment line',
    '\tv1.5.0',
    '\t[v1.6.0, v1.6.9]',
    '\t"v1.7.0"',
    ')',
    'retract v1.2', // kept as written; semver treats it as v1.2.0
    'retract [v2.0.0', // malformed: dropped in lax mode
    'retract [v2.1.0, v2.2.0 v2.3.0', // no closing bracket: dropped
    'retract [v2.4.0 v2.5.0]', // no comma: dropped
    'retract',
    '',
  ].join('\n');
  test('single, interval and block forms', () => {
    assert.deepEqual(retractions(text), [
      { low: 'v1.1.0', high: 'v1.1.0' },
      { low: 'v1.3.0', high: 'v1.4.0' },
      { low: 'v1.5.0', high: 'v1.5.0' },
      { low: 'v1.6.0', high: 'v1.6.9' },
      { low: 'v1.7.0', high: 'v1.7.0' },
      { low: 'v1.2', high: 'v1.2' },
    ]);
  });
  test('quoted versions are unquoted as Go strings: octal escapes, characters at the top of the BMP', () => {
    // "\067" is '7' (an octal escape may use the digit 7); U+FFFF is one UTF-16 unit, not two.
    assert.deepEqual(retractions('module m\nretract "v1.0.\\067"\nretract "v1.0.0-\uffff.1"\nretract "v1.0.\\068"\n'), [
      { low: 'v1.0.7', high: 'v1.0.7' },
      { low: 'v1.0.0-\uffff.1', high: 'v1.0.0-\uffff.1' },
    ]);
  });
  test('isRetracted is inclusive and semver-ordered', () => {
    const r = retractions(text);
    for (const v of ['v1.1.0', 'v1.3.0', 'v1.3.5', 'v1.4.0', 'v1.6.1', 'v1.2.0', 'v1.7.0']) {
      assert.equal(isRetracted(v, r), true, v);
    }
    for (const v of ['v1.0.0', 'v1.2.1', 'v1.4.1', 'v1.3.0-pre', 'v2.0.0']) {
      assert.equal(isRetracted(v, r), false, v);
    }
  });
  test('a go.mod that does not parse retracts nothing', () => {
    assert.deepEqual(retractions('module m\nretract v1.0.0\ngo 1\n'), []);
    assert.deepEqual(retractions(Buffer.from([0xff, 0x0a])), []);
  });
});

describe('goUnquote (strconv.Unquote)', () => {
  const cases: [string, string | null][] = [
    ['"abc"', 'abc'],
    ['"a\\tb\\\\c\\"d"', 'a\tb\\c"d'],
    ['"\\u00e9\\U0001F642\\x41\\101"', 'é🙂AA'],
    ['"\\xc3\\xa9"', 'é'],
    ['`a\rb\\n`', 'ab\\n'],
    ['"a', null],
    ['"a"b"', null],
    ['"\\\'"', null],
    ['"\\q"', null],
    ['"\\400"', null],
    ['"\\ud800"', null],
    ['"a\nb"', null],
    ["'a'", null],
    ['`a`b`', null],
  ];
  for (const [s, want] of cases) {
    test(`${JSON.stringify(s)} → ${JSON.stringify(want)}`, () => assert.equal(goUnquote(s), want));
  }
});

const ref = await loadGoReference();

test('matches modfile.ModulePath and modfile.ParseLax (x/mod v0.7.0)', { skip: 'skip' in ref ? ref.skip : false }, async () => {
  assert.ok(!('skip' in ref));
  const rand = seededRandom(0x90a0d);
  const fragments = [
    'module example.com/m',
    'module "example.com/q"',
    'module `example.com/raw`',
    'module "bad',
    'module',
    'modulex y',
    'module a b',
    'module (',
    'module ""',
    'module "\\xff"',
    '\tmodule indented',
    'module\u00a0nbsp',
    'module example.com/m/v2',
    'go 1.16',
    'go 1.21.0',
    'go 1.24rc1',
    'go v1.21',
    'go 1',
    'go 1.21.x',
    'go',
    'go 1.2 3',
    'go 01.2',
    'go 1.021',
    'go "1.2"',
    'toolchain go1.21.0',
    'godebug default=go1.21',
    'foo bar baz',
    'replace a => b',
    'replace a v1 => ../b',
    'exclude a v1.0.0',
    'require example.com/x v1.2.3',
    'require example.com/x v1.2',
    'require example.com/x vbad',
    'require example.com/x/v2 v1.0.0',
    'require example.com/x/v2 v2.0.0',
    'require example.com/x',
    'require "example.com/q" v1.0.0',
    "require 'x' v1.0.0",
    'require gopkg.in/yaml.v2 v2.4.0',
    'require x/v1 v1.0.0',
    'require x v2.0.0+incompatible',
    'require x "v1.0.0"',
    'retract v1.0.0',
    'retract [v1.0.0, v1.2.0]',
    'retract [v1.0.0,v1.2.0] // why',
    'retract [v1.0.0',
    'retract',
    'retract ( v1 )',
    'retract v1.0.0 extra',
    'retract "v1.1.0"',
    'retract vfoo',
    'retract [v1, v2]',
    'retract `v1`',
    'require (',
    'retract (',
    'replace (',
    'exclude (',
    'foo (',
    'require x (',
    ')',
    '( )',
    'x ( ) y',
    '// comment',
    '  // indented comment',
    '',
    '',
    '',
    '/* bad */',
    'x /* y',
    'a"b c',
    '"unterminated',
    '`raw string`',
    '\tv1.5.0',
    '\t[v1.6.0, v1.7.0]',
    '\texample.com/y v1.0.0',
    '\texample.com/y v1.0.0 // indirect',
    '\tmodule-in-block',
    'x\u0000y',
    'x\u000by',
    'é ü',
    '\ufeffmodule bom',
    'a,b',
    '[',
    ']',
    '{ }',
    'module m // c\r',
    'go 1.20\r',
  ];
  const texts: string[] = [];
  for (let i = 0; i < 2000; i++) {
    const n = Math.floor(rand() * 8);
    const lines = Array.from({ length: n }, () => pick(rand, fragments));
    texts.push(lines.join(pick(rand, ['\n', '\n', '\n', '\r\n'])) + pick(rand, ['\n', '', '\n\n']));
  }
  type Answer = {
    modulePath: string;
    laxErr: string;
    module?: string;
    hasModule?: boolean;
    go?: string;
    hasGo?: boolean;
    require?: [string, string][];
    retract?: [string, string][];
  };
  const answers = await ref.ask<Answer>(texts.map((t) => ({ op: 'modfile', data: Buffer.from(t).toString('base64') })));
  let parsed = 0;
  answers.forEach((want, i) => {
    const text = texts[i]!;
    assert.equal(modulePath(text) ?? '', want.modulePath, `ModulePath of ${JSON.stringify(text)}`);
    let got: Answer;
    try {
      const f = parseGoModLax(text, { xmod: 'v0.7' });
      got = {
        modulePath: want.modulePath,
        laxErr: '',
        module: f.module ?? '',
        hasModule: want.hasModule ?? false,
        go: f.go ?? '',
        hasGo: f.go !== null,
        require: f.require.map((r) => [r.path, r.version]),
        retract: f.retract.map((r) => [r.low, r.high]),
      };
      parsed++;
    } catch (err) {
      assert.ok(err instanceof GoModParseError, String(err));
      got = { modulePath: want.modulePath, laxErr: err.message };
    }
    assert.deepEqual(got, want, `ParseLax of ${JSON.stringify(text)}`);
  });
  assert.ok(parsed > 200, `only ${parsed} go.mod texts parsed`);
});
