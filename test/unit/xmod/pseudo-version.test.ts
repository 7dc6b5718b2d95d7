import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decDecimal,
  formatPseudoTime,
  incDecimal,
  isPseudoVersion,
  isZeroPseudoVersion,
  pseudoVersion,
  pseudoVersionBase,
  pseudoVersionRev,
  pseudoVersionTime,
  zeroPseudoVersion,
} from '../../../src/xmod/pseudo-version.js';
import * as semver from '../../../src/xmod/semver.js';
import { loadGoReference, pick, seededRandom } from '../../helpers/go-reference.js';

describe('pseudoVersion (spec §3.4/§3.5 vectors)', () => {
  const cases: [string, string, string, string, string][] = [
    // major, older, commit time, rev, expected
    ['', 'v1.3.0', '2021-01-04T10:00:00Z', 'fd287eab3596', 'v1.3.1-0.20210104100000-fd287eab3596'],
    ['', '', '2022-05-06T07:08:09+02:00', 'f957a6e477de', 'v0.0.0-20220506050809-f957a6e477de'],
    ['', 'v1.0.0-rc1', '2020-01-02T03:04:05Z', '510a887271f6', 'v1.0.0-rc1.0.20200102030405-510a887271f6'],
    ['v2', '', '2022-05-06T07:08:09Z', 'b019213c3c73', 'v2.0.0-20220506070809-b019213c3c73'],
    ['', 'v3.0.0+incompatible', '2019-04-01T00:00:00Z', '109f584f630b', 'v3.0.1-0.20190401000000-109f584f630b+incompatible'],
    ['', 'v1.0.0', '2021-01-02T00:00:00Z', '234e2dfb691c', 'v1.0.1-0.20210102000000-234e2dfb691c'],
    ['', 'v1.2.0', '2021-01-04T00:00:00Z', 'abcdefabcdef', 'v1.2.1-0.20210104000000-abcdefabcdef'],
    ['', 'v1.9.9', '2021-01-04T00:00:00Z', 'abcdefabcdef', 'v1.9.10-0.20210104000000-abcdefabcdef'],
    ['', 'v1.1.0-rc.1', '2021-01-04T10:00:00Z', 'fd287eab3596', 'v1.1.0-rc.1.0.20210104100000-fd287eab3596'],
    ['', 'v1.2', '2021-01-04T10:00:00Z', 'fd287eab3596', 'v1.2.1-0.20210104100000-fd287eab3596'],
  ];
  for (const [major, older, time, rev, want] of cases) {
    test(`${JSON.stringify(older)} at ${time} → ${want}`, () => {
      assert.equal(pseudoVersion(major, older, new Date(time), rev), want);
      assert.equal(isPseudoVersion(want), true);
    });
  }
  test('formatPseudoTime is UTC yyyymmddhhmmss with four-digit years', () => {
    assert.equal(formatPseudoTime(new Date('2023-06-07T08:09:10-07:00')), '20230607150910');
    const early = new Date(0);
    early.setUTCFullYear(7, 0, 2);
    assert.equal(formatPseudoTime(early), '00070102000000');
  });
});

describe('recognising and taking apart pseudo-versions', () => {
  test('isPseudoVersion', () => {
    assert.equal(isPseudoVersion('v1.0.0-20210101000000-abcdefabcdef'), true); // a tag that looks like one
    assert.equal(isPseudoVersion('v0.0.0-20210101100000-86a9970'), true); // short revisions are syntax-valid
    assert.equal(isPseudoVersion('v1.2.3'), false);
    assert.equal(isPseudoVersion('v1.2.3-pre'), false);
    assert.equal(isPseudoVersion('v1.0.0-2021010100000-abcdefabcdef'), false); // 13 digits
    assert.equal(isPseudoVersion('v1.0.1-1.20210101000000-abcdefabcdef'), false);
  });
  const bases: [string, string | RegExp][] = [
    ['v1.0.1-0.20210104100000-fd287eab3596', 'v1.0.0'],
    ['v1.1.0-rc.1.0.20210104100000-fd287eab3596', 'v1.1.0-rc.1'],
    ['v0.0.0-20210104100000-fd287eab3596', ''],
    ['v3.0.1-0.20190401000000-109f584f630b+incompatible', 'v3.0.0+incompatible'],
    [
      'v2.0.0-20190401000000-109f584f630b+incompatible',
      /^pseudo-version "v2\.0\.0-20190401000000-109f584f630b\+incompatible" invalid: lacks base version, but has build metadata "\+incompatible"$/,
    ],
    ['v1.0.0-0.20190401000000-109f584f630b', /version before v1\.0\.0 would have negative patch number$/],
    ['v1.2.3', /^pseudo-version "v1\.2\.3" invalid: syntax error$/],
  ];
  for (const [v, want] of bases) {
    test(`pseudoVersionBase(${v})`, () => {
      if (typeof want === 'string') {
        assert.equal(pseudoVersionBase(v), want);
      } else {
        let result: string;
        try {
          result = pseudoVersionBase(v);
        } catch (err) {
          result = (err as Error).message;
        }
        assert.match(result, want);
      }
    });
  }
  test('the base patch number is decremented as a decimal string', () => {
    assert.throws(() => pseudoVersionBase('v1.10.0-0.20190401000000-109f584f630b'), /negative patch number/);
    assert.equal(pseudoVersionBase('v1.10.10-0.20190401000000-109f584f630b'), 'v1.10.9');
    assert.equal(pseudoVersionBase('v1.10.100-0.20190401000000-109f584f630b'), 'v1.10.99');
  });
  test('pseudoVersionRev and pseudoVersionTime', () => {
    assert.equal(pseudoVersionRev('v0.0.0-20210101100000-86a9970b94a1'), '86a9970b94a1');
    assert.equal(pseudoVersionRev('v1.0.1-0.20210101100000-86a9970b94a1c+incompatible'), '86a9970b94a1c');
    assert.equal(pseudoVersionTime('v0.0.0-20210101100000-86a9970b94a1').toISOString(), '2021-01-01T10:00:00.000Z');
    assert.equal(pseudoVersionTime('v0.0.0-00990101000000-86a9970b94a1').getUTCFullYear(), 99);
    assert.throws(() => pseudoVersionTime('v0.0.0-20211301000000-abcdef123456'), {
      message: 'pseudo-version "v0.0.0-20211301000000-abcdef123456" invalid: malformed time "20211301000000"',
    });
    assert.throws(() => pseudoVersionTime('v0.0.0-20210229000000-abcdef123456'), /malformed time/);
    assert.equal(pseudoVersionTime('v0.0.0-20200229235959-abcdef123456').toISOString(), '2020-02-29T23:59:59.000Z');
    assert.throws(() => pseudoVersionRev('v1.2.3'), /syntax error/);
  });
  test('zero pseudo-versions', () => {
    assert.equal(zeroPseudoVersion(''), 'v0.0.0-00010101000000-000000000000');
    assert.equal(zeroPseudoVersion('v2'), 'v2.0.0-00010101000000-000000000000');
    assert.equal(isZeroPseudoVersion('v2.0.0-00010101000000-000000000000'), true);
    assert.equal(isZeroPseudoVersion('v2.0.0-00010101000001-000000000000'), false);
  });
  test('decimal increment and decrement', () => {
    assert.deepEqual(['0', '9', '99', '109', '123456789012345678901234567899'].map(incDecimal), [
      '1',
      '10',
      '100',
      '110',
      '123456789012345678901234567900',
    ]);
    assert.deepEqual(['1', '10', '100', '0', '00', '21'].map(decDecimal), ['0', '9', '99', '', '', '20']);
  });
});

const ref = await loadGoReference();

test('matches golang.org/x/mod/module pseudo.go', { skip: 'skip' in ref ? ref.skip : false }, async () => {
  assert.ok(!('skip' in ref));
  const rand = seededRandom(0x95e0d0);
  const stamps = [
    '20210104100000',
    '00010101000000',
    '20211301000000',
    '20210230000000',
    '20200229235959',
    '99991231235959',
    '20210101246000',
    '2021010410000',
    '202101041000000',
    '20210104100060',
  ];
  const revs = ['fd287eab3596', '86a9970', 'abcdefABCDEF', '000000000000', 'x', '86a9970b94a1c'];
  const baseForms = [
    'v0.0.0-',
    'v1.0.0-',
    'v2.0.0-',
    'v1.0.1-0.',
    'v1.0.0-0.',
    'v1.10.0-0.',
    'v1.1.0-rc.1.0.',
    'v1.1.0-rc.0.',
    'v1.1.0-0.0.',
    'v1.1.0-1.',
    'v01.0.0-',
    'v1.2-',
    'v1.2.3-pre.0.',
    'v1.2.3-pre.1.',
  ];
  const builds = ['', '', '', '+incompatible', '+meta', '+a.b', '+'];
  const versions: string[] = [];
  for (let i = 0; i < 1500; i++) {
    versions.push(pick(rand, baseForms) + pick(rand, stamps) + '-' + pick(rand, revs) + pick(rand, builds));
  }
  versions.push('v1.2.3', 'v0.0.0-00010101000000-000000000000', 'v3.0.0-00010101000000-000000000000', 'v1.0.0-a-b');
  type Answer = {
    isPseudo: boolean;
    isZero: boolean;
    base: string;
    baseErr: string;
    rev: string;
    revErr: string;
    time: string;
    timeErr: string;
    zeroForV: string;
  };
  const answers = await ref.ask<Answer & { isPseudoRE: boolean }>(versions.map((v) => ({ op: 'pseudo', v })));
  const attempt = (f: () => string): [string, string] => {
    try {
      return [f(), ''];
    } catch (err) {
      return ['', (err as Error).message];
    }
  };
  let pseudoCount = 0;
  answers.forEach(({ isPseudoRE: _unused, ...want }, i) => {
    const v = versions[i]!;
    const [base, baseErr] = attempt(() => pseudoVersionBase(v));
    const [rev, revErr] = attempt(() => pseudoVersionRev(v));
    const [time, timeErr] = attempt(() => pseudoVersionTime(v).toISOString().replace('.000Z', 'Z'));
    const got: Answer = {
      isPseudo: isPseudoVersion(v),
      isZero: isZeroPseudoVersion(v),
      base,
      baseErr,
      rev,
      revErr,
      time,
      timeErr,
      zeroForV: zeroPseudoVersion(semver.major(v)),
    };
    assert.deepEqual(got, want, v);
    if (want.isPseudo) {
      pseudoCount++;
    }
  });
  assert.ok(pseudoCount > 300, `only ${pseudoCount} pseudo-versions generated`);

  const olders = [
    '',
    'v1.0.0',
    'v1.9.9',
    'v0.99.99',
    'v1.0.0-rc1',
    'v1.0.0-RC1',
    'v2.0.0+incompatible',
    'v3.1.0-pre+incompatible',
    'v1.2',
    'v1',
    'vfoo',
    'v1.3.0+meta',
  ];
  const majors = ['', 'v0', 'v2', 'v10'];
  const makeReqs: { op: string; major: string; older: string; unix: number; rev: string }[] = [];
  for (let i = 0; i < 500; i++) {
    // Year 1 to 9999, whole seconds.
    const unix = Math.floor(-62135596800 + rand() * (253402300799 + 62135596800));
    makeReqs.push({ op: 'pseudoMake', major: pick(rand, majors), older: pick(rand, olders), unix, rev: pick(rand, revs) });
  }
  const made = await ref.ask<string>(makeReqs);
  made.forEach((want, i) => {
    const r = makeReqs[i]!;
    assert.equal(pseudoVersion(r.major, r.older, new Date(r.unix * 1000), r.rev), want, JSON.stringify(r));
  });
});

describe('times do not depend on the time zone of the process', () => {
  for (const zone of ['Asia/Kolkata', 'America/St_Johns', 'Pacific/Kiritimati', 'UTC']) {
    test(`TZ=${zone}: pseudo-version and .info times are UTC`, async () => {
      const { formatRevTime } = await import('../../../src/service/module-service.js');
      const saved = process.env['TZ'];
      process.env['TZ'] = zone;
      try {
        // 23:30 UTC is already the next day east of UTC and still the same day west of it.
        const t = new Date(Date.UTC(2021, 11, 31, 23, 30, 5));
        assert.equal(formatPseudoTime(t), '20211231233005');
        assert.equal(formatRevTime(t.getTime() / 1000), '2021-12-31T23:30:05Z');
        assert.equal(pseudoVersionTime('v0.0.0-20211231233005-0123456789ab').getTime(), t.getTime());
      } finally {
        if (saved === undefined) delete process.env['TZ'];
        else process.env['TZ'] = saved;
      }
    });
  }
});
