import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as semver from '../../../src/xmod/semver.js';
import { loadGoReference, pick, seededRandom } from '../../helpers/go-reference.js';

describe('semver.isValid / canonical', () => {
  const cases: [string, boolean, string][] = [
    ['v1.2.3', true, 'v1.2.3'],
    ['v1', true, 'v1.0.0'],
    ['v1.2', true, 'v1.2.0'],
    ['v1.2.3-pre', true, 'v1.2.3-pre'],
    ['v1.2.3+meta', true, 'v1.2.3'],
    ['v1.2.3-pre+meta', true, 'v1.2.3-pre'],
    ['v2.0.0+incompatible', true, 'v2.0.0'],
    ['v1.2+meta', false, ''], // shorthands take no suffixes
    ['v1-pre', false, ''],
    ['1.2.3', false, ''],
    ['v01.4.0', false, ''],
    ['v1.02.0', false, ''],
    ['v1.2.3-01', false, ''], // numeric identifiers without leading zeros
    ['v1.2.3-0', true, 'v1.2.3-0'],
    ['v1.2.3-0a', true, 'v1.2.3-0a'],
    ['v1.2.3-', false, ''],
    ['v1.2.3-a..b', false, ''],
    ['v1.2.3+', false, ''],
    ['v1.2.3+a+b', false, ''],
    ['v1.2.3+01', true, 'v1.2.3'], // build identifiers may have leading zeros
    ['vfoo', false, ''],
    ['v', false, ''],
    ['', false, ''],
    ['v1.2.3.4', false, ''],
  ];
  for (const [v, valid, canonical] of cases) {
    test(`${JSON.stringify(v)} → valid ${valid}, canonical ${JSON.stringify(canonical)}`, () => {
      assert.equal(semver.isValid(v), valid);
      assert.equal(semver.canonical(v), canonical);
    });
  }
});

describe('semver accessors', () => {
  test('major, majorMinor, prerelease, build', () => {
    assert.equal(semver.major('v2.1.0'), 'v2');
    assert.equal(semver.major('v2'), 'v2');
    assert.equal(semver.major('bad'), '');
    assert.equal(semver.majorMinor('v2.1.0'), 'v2.1');
    assert.equal(semver.majorMinor('v2'), 'v2.0');
    assert.equal(semver.prerelease('v2.1.0-pre+meta'), '-pre');
    assert.equal(semver.build('v2.1.0+meta'), '+meta');
    assert.equal(semver.build('v2.1.0-pre+incompatible'), '+incompatible');
  });
});

describe('semver.compare', () => {
  // semver.org's precedence example, lowest first.
  const chain = [
    'v1.0.0-alpha',
    'v1.0.0-alpha.1',
    'v1.0.0-alpha.beta',
    'v1.0.0-beta',
    'v1.0.0-beta.2',
    'v1.0.0-beta.11',
    'v1.0.0-rc.1',
    'v1.0.0',
    'v1.0.1',
    'v1.1',
    'v1.10.0',
    'v2',
    'v10.0.0',
  ];
  test('orders the precedence chain', () => {
    for (let i = 0; i < chain.length; i++) {
      for (let j = 0; j < chain.length; j++) {
        assert.equal(semver.compare(chain[i]!, chain[j]!), Math.sign(i - j), `${chain[i]} vs ${chain[j]}`);
      }
    }
  });
  test('RC1 < rc1 (ASCII), numeric < alphanumeric, build ignored, invalid lowest', () => {
    assert.equal(semver.compare('v1.0.0-RC1', 'v1.0.0-rc1'), -1);
    assert.equal(semver.compare('v1.0.0-9', 'v1.0.0-a'), -1);
    assert.equal(semver.compare('v1.0.0+a', 'v1.0.0+b'), 0);
    assert.equal(semver.compare('v1.2', 'v1.2.0'), 0);
    assert.equal(semver.compare('bad', 'v0.0.0'), -1);
    assert.equal(semver.compare('bad', 'worse'), 0);
  });
  test('max canonicalises', () => {
    assert.equal(semver.max('v1.2', 'v1.1.9+x'), 'v1.2.0');
    assert.equal(semver.max('bad', 'v0.1'), 'v0.1.0');
  });
  test('sort breaks ties by Go string order', () => {
    assert.deepEqual(semver.sort(['v1.2.0', 'v1.0.0+b', 'v1.2', 'v1.0.0+a', 'x', 'v0.9']), [
      'x',
      'v0.9',
      'v1.0.0+a',
      'v1.0.0+b',
      'v1.2',
      'v1.2.0',
    ]);
  });
});

const ref = await loadGoReference();

test('matches golang.org/x/mod/semver on random versions', { skip: 'skip' in ref ? ref.skip : false }, async () => {
  assert.ok(!('skip' in ref));
  const rand = seededRandom(0x5e3e1);
  const num = ['0', '1', '2', '3', '9', '10', '0', '1', '2', '01', '123456789012345678901234567890'];
  const ident = ['alpha', 'beta', 'rc', 'RC1', 'rc1', '0', '1', '11', 'x-y', '-', '0a', '9', '01', ''];
  const gen = (): string => {
    let v = (rand() < 0.95 ? 'v' : pick(rand, ['', 'V'])) + pick(rand, num);
    const parts = pick(rand, [0, 1, 2, 2, 2, 2, 3]);
    for (let i = 0; i < parts; i++) {
      v += (rand() < 0.97 ? '.' : '..') + pick(rand, num);
    }
    if (rand() < 0.5) {
      v += '-' + Array.from({ length: 1 + Math.floor(rand() * 3) }, () => pick(rand, ident)).join('.');
    }
    if (rand() < 0.3) {
      v += '+' + pick(rand, ['incompatible', 'meta', '01', 'a.b', '', 'a..b', 'x+y']);
    }
    if (rand() < 0.03) {
      v += pick(rand, [' ', 'é', '\n', '/']);
    }
    return v;
  };
  const pairs: [string, string][] = [];
  for (let i = 0; i < 3000; i++) {
    const v = gen();
    pairs.push([v, rand() < 0.2 ? v.replace(/\+.*$/, '') : gen()]);
  }
  type Answer = {
    isValid: boolean;
    canonical: string;
    major: string;
    majorMinor: string;
    prerelease: string;
    build: string;
    compare: number;
    max: string;
  };
  const answers = await ref.ask<Answer>(pairs.map(([v, w]) => ({ op: 'semver', v, w })));
  answers.forEach((want, i) => {
    const [v, w] = pairs[i]!;
    assert.deepEqual(
      {
        isValid: semver.isValid(v),
        canonical: semver.canonical(v),
        major: semver.major(v),
        majorMinor: semver.majorMinor(v),
        prerelease: semver.prerelease(v),
        build: semver.build(v),
        compare: semver.compare(v, w),
        max: semver.max(v, w),
      },
      want,
      `v=${JSON.stringify(v)} w=${JSON.stringify(w)}`,
    );
  });
  assert.ok(answers.filter((a) => a.isValid).length > 600, 'enough valid versions generated');
  const lists = Array.from({ length: 50 }, (_, i) => pairs.slice(i * 20, i * 20 + 20).flat());
  const sorted = await ref.ask<string[]>(lists.map((list) => ({ op: 'semverSort', list })));
  sorted.forEach((want, i) => {
    assert.deepEqual(semver.sort([...lists[i]!]), want);
  });
});
