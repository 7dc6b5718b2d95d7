import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sortCanonicalVersions } from '../../../src/modfetch/version-order.js';
import * as semver from '../../../src/xmod/semver.js';
import { loadGoReference, pick, seededRandom } from '../../helpers/go-reference.js';

/**
 * `list` orders versions with the npm semver package; Go orders them with x/mod's semver. These
 * lists are canonical versions crowded onto few major.minor.patch triples, so most comparisons
 * are decided by the pre-release, where the two libraries could differ.
 */
function canonicalLists(seed: number, count: number): string[][] {
  const rand = seededRandom(seed);
  const nums = ['0', '1', '2', '9', '10', '11', '99', '9007199254740993', '9007199254740992', '123456789012345678901234567890'];
  const idents = [
    'alpha',
    'beta',
    'rc',
    'RC',
    'rc1',
    'rc10',
    'rc2',
    '0',
    '1',
    '2',
    '10',
    '11',
    'x-y',
    '-',
    '0a',
    'a0',
    'Z',
    'z',
    '9007199254740993',
    '9007199254740992',
  ];
  const version = (): string => {
    let v = `v${pick(rand, nums.slice(0, 4))}.${pick(rand, nums.slice(0, 4))}.${pick(rand, nums)}`;
    if (rand() < 0.8) v += `-${Array.from({ length: 1 + Math.floor(rand() * 3) }, () => pick(rand, idents)).join('.')}`;
    return v;
  };
  return Array.from({ length: count }, () => {
    const set = new Set<string>();
    while (set.size < 30) {
      const v = version();
      if (semver.canonical(v) === v) set.add(v);
    }
    return [...set];
  });
}

test('sortCanonicalVersions orders canonical versions exactly as the x/mod port does', () => {
  for (const list of canonicalLists(0x5041, 300)) {
    const shuffled = [...list].reverse();
    assert.deepEqual(sortCanonicalVersions([...shuffled]), semver.sort([...shuffled]), JSON.stringify(list));
  }
});

test('sortCanonicalVersions: the cases npm semver cannot decide alone', () => {
  // Parts above 2^53 compare digit by digit in Go; as JavaScript numbers they would tie.
  assert.deepEqual(sortCanonicalVersions(['v1.0.9007199254740993', 'v1.0.9007199254740992']), [
    'v1.0.9007199254740992',
    'v1.0.9007199254740993',
  ]);
  assert.deepEqual(sortCanonicalVersions(['v1.0.0-9007199254740993', 'v1.0.0-9007199254740992']), [
    'v1.0.0-9007199254740992',
    'v1.0.0-9007199254740993',
  ]);
  // Numeric identifiers sort below alphanumeric ones; a shorter set of identifiers sorts first.
  assert.deepEqual(
    sortCanonicalVersions(['v1.0.0', 'v1.0.0-rc.1', 'v1.0.0-1', 'v1.0.0-rc', 'v1.0.0-alpha.beta', 'v1.0.0-alpha.1', 'v1.0.0-alpha']),
    ['v1.0.0-1', 'v1.0.0-alpha', 'v1.0.0-alpha.1', 'v1.0.0-alpha.beta', 'v1.0.0-rc', 'v1.0.0-rc.1', 'v1.0.0'],
  );
});

const ref = await loadGoReference();

test('sortCanonicalVersions matches golang.org/x/mod/semver.Sort', { skip: 'skip' in ref ? ref.skip : false }, async () => {
  assert.ok(!('skip' in ref));
  const lists = canonicalLists(0x5042, 60);
  const sorted = await ref.ask<string[]>(lists.map((list) => ({ op: 'semverSort', list })));
  sorted.forEach((want, i) => {
    assert.deepEqual(sortCanonicalVersions([...lists[i]!]), want);
  });
});
