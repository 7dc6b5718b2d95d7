import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  compareUtf8,
  foldRune,
  isLetter,
  isPrint,
  isSpace,
  isWellFormed,
  strToFold,
  UNICODE_VERSION,
} from '../../../src/xmod/unicode-fold.js';
import { loadGoReference } from '../../helpers/go-reference.js';

describe('strToFold (x/mod/zip)', () => {
  const classes: string[][] = [
    ['K', 'k', '\u212a'], // KELVIN SIGN
    ['S', 's', '\u017f'], // LATIN SMALL LETTER LONG S
    ['\u00c5', '\u00e5', '\u212b'], // ANGSTROM SIGN
    ['\u03a3', '\u03c3', '\u03c2'], // final sigma
    ['\uff21', '\uff41'], // fullwidth A / a
    ['\u{10400}', '\u{10428}'], // Deseret
    ['README.md', 'Readme.md', 'readme.MD'],
  ];
  for (const members of classes) {
    test(`${members.map((m) => JSON.stringify(m)).join(', ')} collide`, () => {
      const folded = new Set(members.map(strToFold));
      assert.equal(folded.size, 1);
    });
  }
  test('ASCII maps to lower case; other orbits to their smallest rune', () => {
    assert.equal(strToFold('GO.MOD'), 'go.mod');
    assert.equal(strToFold('\u212a'), 'k');
    assert.equal(strToFold('\u00e5'), '\u00c5');
    assert.equal(strToFold('\u03c2'), '\u03a3');
  });
  test('no folding where JavaScript lower-casing would differ', () => {
    // U+0130 and U+0131 have no simple-fold partners in Go; toLowerCase turns İ into "i̇".
    assert.equal(strToFold('\u0130'), '\u0130');
    assert.equal(strToFold('\u0131'), '\u0131');
    assert.notEqual(strToFold('\u0130'), strToFold('i'));
    assert.equal('\u0130'.toLowerCase(), 'i\u0307');
    // Different letters: 𝐀 (mathematical bold) does not fold to A.
    assert.notEqual(strToFold('\u{1d400}'), strToFold('A'));
  });
  test('the all-ASCII lower-case fast path returns the input', () => {
    assert.equal(strToFold('a/b/c.go'), 'a/b/c.go');
    assert.equal(foldRune(0x41), 0x61);
    assert.equal(foldRune(0x61), 0x61);
  });
});

describe('Unicode tables from Go', () => {
  test('generated from the reference toolchain', () => {
    assert.equal(UNICODE_VERSION, '13.0.0');
  });
  test('isLetter / isPrint / isSpace samples', () => {
    assert.equal(isLetter(0x41), true);
    assert.equal(isLetter(0xe9), true);
    assert.equal(isLetter(0x30), false);
    assert.equal(isLetter(0x301), false); // combining mark
    assert.equal(isLetter(0x1e290), false); // Unicode 14, after Go 1.19
    assert.equal(isPrint(0x20), true);
    assert.equal(isPrint(0xa0), false);
    assert.equal(isPrint(0xad), false);
    assert.equal(isPrint(0xfeff), false);
    assert.equal(isPrint(0x301), true);
    assert.equal(isSpace(0x85), true);
    assert.equal(isSpace(0xa0), true);
    assert.equal(isSpace(0x3000), true);
    assert.equal(isSpace(0x200b), false);
  });
});

describe('compareUtf8', () => {
  test('sorts like Go (UTF-8 bytes), not like UTF-16', () => {
    const names = ['é.txt', 'Ｂ.txt', 'ａ.txt', '𝐀.txt', 'z'];
    assert.deepEqual([...names].sort(compareUtf8), ['z', 'é.txt', 'Ｂ.txt', 'ａ.txt', '𝐀.txt']);
    assert.deepEqual([...names].sort(), ['z', 'é.txt', '𝐀.txt', 'Ｂ.txt', 'ａ.txt']);
    assert.equal(compareUtf8('a', 'ab'), -1);
    assert.equal(compareUtf8('x', 'x'), 0);
  });
  test('isWellFormed', () => {
    assert.equal(isWellFormed('a\u{1d400}'), true);
    assert.equal(isWellFormed('a\ud835'), false);
    assert.equal(isWellFormed('\udc00a'), false);
  });
});

const ref = await loadGoReference();

test('strToFold matches Go for every code point', { skip: 'skip' in ref ? ref.skip : false }, async () => {
  assert.ok(!('skip' in ref));
  const chunks: string[] = [];
  const chunk = 4096;
  for (let start = 0; start <= 0x10ffff; start += chunk) {
    let s = '';
    for (let r = start; r < Math.min(start + chunk, 0x110000); r++) {
      if (r < 0xd800 || r > 0xdfff) {
        s += String.fromCodePoint(r);
      }
    }
    chunks.push(s);
  }
  const answers = await ref.ask<string>(chunks.map((s) => ({ op: 'fold', s })));
  answers.forEach((want, i) => {
    const got = strToFold(chunks[i]!);
    if (got !== want) {
      const a = [...got];
      const b = [...want];
      const k = a.findIndex((c, j) => c !== b[j]);
      assert.fail(`first difference at U+${a[k]?.codePointAt(0)?.toString(16)} vs U+${b[k]?.codePointAt(0)?.toString(16)}`);
    }
  });
});
