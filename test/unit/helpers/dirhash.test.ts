import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { DirhashError, Hash1Builder, hash1, hashFiles, hashGoMod } from '../../helpers/dirhash.js';
import { loadGoReference, randomString, seededRandom } from '../../helpers/go-reference.js';

function zip(prefix: string, files: Record<string, string>): { name: string; content: Buffer }[] {
  return Object.entries(files).map(([name, content]) => ({ name: prefix + name, content: Buffer.from(content) }));
}

describe('go.mod hashes (GoModSum)', () => {
  const cases: [string, string][] = [
    ['', 'h1:G7mAYYxgmS0lVkHyy2hEOLQCFB0DlQFTMLWggykrydY='],
    ['module example.com/m\n', 'h1:flS2VctbRrTv+sBE+VKgxx6hlkMGPVz9MGOmzMYFg3k='],
    ['module github.com/testorg/noinc\n', 'h1:3MnBj7QHwLIlECkcL43xGZHs5rciUU4W21LIO8sfeUY='],
    ['module github.com/testorg/basic\n\ngo 1.16\n', 'h1:kp4xutX9N3x517S3A5QizefrYFA/Ny3s1O6QL9SOrQA='],
  ];
  for (const [content, sum] of cases) {
    test(`${JSON.stringify(content)} → ${sum}`, () => {
      assert.equal(hashGoMod(Buffer.from(content)), sum);
      assert.equal(hashGoMod(content), sum);
    });
  }
});

describe('zip hashes (spec §4.3, §6)', () => {
  const cases: [string, { name: string; content: Buffer }[], string][] = [
    [
      'example.com/m@v1.0.0',
      zip('example.com/m@v1.0.0/', { 'go.mod': 'module example.com/m\n', 'a.go': 'package m\n' }),
      'h1:SXy42eQ/QbleX7vtuAPFnaM3tNuQnfeo7rulG/p7iOw=',
    ],
    [
      'basic@v1.0.0 (case 41)',
      zip('github.com/testorg/basic@v1.0.0/', {
        '.gitattributes': 'ignored.txt export-ignore\nsubst.txt export-subst\ncrlf.txt eol=crlf\nident.txt ident\n',
        LICENSE: 'LICENSE TEXT\n',
        'a b.txt': 'x',
        'a.go': 'package basic\n',
        'crlf.txt': 'line1\r\nline2\r\n',
        'go.mod': 'module github.com/testorg/basic\n\ngo 1.16\n',
        'ident.txt': '$Id: 055c8729cdcc372500a08db659c045e16c4409fb $\n',
        'ignored.txt': 'should be kept\n',
        'subst.txt': 'commit $Format:%H$\n',
        'testdata/x.json': '{}',
        'vendor/modules.txt': '# modules\n',
        'vendor/top.go': 'package vendor\n',
      }),
      'h1:gMnQE9ZP5yY/pIyUaXfrGXqrW5L2v5UgFM+I4AexU7M=',
    ],
    [
      'mono@v1.0.0',
      zip('github.com/testorg/mono@v1.0.0/', {
        LICENSE: 'ROOT LICENSE\n',
        'go.mod': 'module github.com/testorg/mono\n',
        'm.go': 'package mono\n',
      }),
      'h1:mjDSj4NOcKhYt/5Skcs0qgfr4R+yPDIQdwo6DjeHEaY=',
    ],
    [
      'mono/sub/dir@v1.0.0',
      zip('github.com/testorg/mono/sub/dir@v1.0.0/', {
        'd.go': 'package dir\n',
        'go.mod': 'module github.com/testorg/mono/sub/dir\n',
        LICENSE: 'ROOT LICENSE\n',
      }),
      'h1:ycUrQAynRUmvZ+1AvXSkQ0mAOc1inG/3h6hRzjikPds=',
    ],
    [
      'mono/v2@v2.0.0',
      zip('github.com/testorg/mono/v2@v2.0.0/', {
        'go.mod': 'module github.com/testorg/mono/v2\n',
        'm.go': 'package mono\n',
        LICENSE: 'ROOT LICENSE\n',
      }),
      'h1:NzoT+bzythDhkxVTrnWrcvMTkq+inItW1TvjeAMhcA8=',
    ],
    [
      'mono/lic@v0.1.0',
      zip('github.com/testorg/mono/lic@v0.1.0/', { LICENSE: 'OWN\n', 'go.mod': 'module github.com/testorg/mono/lic\n' }),
      'h1:0TYmQXlYG//RILe24wdPPhOc09Qr4HsfdhNTXaaRzMY=',
    ],
    [
      'Upper@v1.0.0-RC1 (case 2)',
      zip('github.com/TestOrg/Upper@v1.0.0-RC1/', { 'go.mod': 'module github.com/TestOrg/Upper\n', 'U.go': 'package upper\n' }),
      'h1:/tjmtUaCfYZ1Uez0e0S3zuS6qSUl2U7dyEwzhva/ftU=',
    ],
    [
      'names@v0.4.0 (case 44, UTF-8 order)',
      zip('github.com/testorg/names@v0.4.0/', {
        'go.mod': 'module github.com/testorg/names\n',
        'ａ.txt': 'a\n',
        '𝐀.txt': 'b\n',
        'Ｂ.txt': 'c\n',
        'é.txt': 'd\n',
      }),
      'h1:sJY4goW5RSVDm/J80Zf0WiAOMV/rUx0b7d5FLe1Yz4E=',
    ],
    [
      'names@v0.5.0 (case 45)',
      zip('github.com/testorg/names@v0.5.0/', { 'go.mod': 'module github.com/testorg/names\n' }),
      'h1:6aKl6IVpIP62dWErXt1LVMAk/CK7rXLdAzfjVwxG0BI=',
    ],
    [
      'names@v0.8.0 (case 46)',
      zip('github.com/testorg/names@v0.8.0/', {
        'go.mod': 'module github.com/testorg/names\n',
        'file~1.go': 'x\n',
        '.hidden': 'y\n',
        '.git2/x': 'z\n',
        '.hg/x': 'z\n',
        'd/.hg_archival.txt': '1\n',
      }),
      'h1:sstaCx3S1FpSbF7oNABuZCGE3zWTvNqgJ7a61TlV9fw=',
    ],
    [
      'names@v0.10.0 (case 47)',
      zip('github.com/testorg/names@v0.10.0/', { 'go.mod': 'module github.com/testorg/names\n', 'a/go.mod/f.go': 'x\n' }),
      'h1:tNXG+8xVc7TxbIuKS8jBTm8DI+0wJBBpfpmPmN+qIbI=',
    ],
  ];
  for (const [label, files, sum] of cases) {
    test(`${label} → ${sum}`, () => {
      assert.equal(hashFiles(files), sum);
      assert.equal(hashFiles([...files].reverse()), sum, 'input order does not matter');
      const builder = new Hash1Builder();
      files.forEach((f, i) => {
        if (i % 2 === 0) {
          builder.add(f.name, f.content);
        } else {
          builder.add(f.name, createHash('sha256').update(f.content).digest('hex'));
        }
      });
      assert.equal(builder.size, files.length);
      assert.equal(builder.digest(), sum);
    });
  }

  test('sorting by UTF-16 code units gives the wrong names@v0.4.0 hash', () => {
    const files = cases.find(([label]) => label.startsWith('names@v0.4.0'))![1];
    const summary = [...files]
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((f) => `${createHash('sha256').update(f.content).digest('hex')}  ${f.name}\n`)
      .join('');
    const utf16 = 'h1:' + createHash('sha256').update(summary).digest('base64');
    assert.equal(utf16, 'h1:DunagDS3wzrp0b3rEmZpZkHrZaCNKbUEUf13Jjx6oSk=');
  });
});

describe('hash1 edge cases', () => {
  test('names with a newline are refused', () => {
    assert.throws(() => hashFiles([{ name: 'a\nb', content: Buffer.alloc(0) }]), {
      name: 'DirhashError',
      message: 'dirhash: filenames with newlines are not supported',
    });
    assert.throws(() => new Hash1Builder().add('x\n', Buffer.alloc(0)), DirhashError);
  });
  test('digests must be lower-case hex SHA-256', () => {
    assert.throws(() => hash1([{ name: 'a', sha256Hex: 'ABC' }]), DirhashError);
    assert.throws(() => new Hash1Builder().add('a', 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855'), DirhashError);
  });
  test('an empty file set hashes the empty summary', () => {
    assert.equal(hash1([]), 'h1:' + createHash('sha256').update('').digest('base64'));
  });
  test('a duplicated name contributes two lines with the last digest (as HashZip)', () => {
    const a = createHash('sha256').update('a').digest('hex');
    const b = createHash('sha256').update('b').digest('hex');
    const summary = `${b}  x\n${b}  x\n`;
    assert.equal(
      hash1([
        { name: 'x', sha256Hex: a },
        { name: 'x', sha256Hex: b },
      ]),
      'h1:' + createHash('sha256').update(summary).digest('base64'),
    );
  });
});

const ref = await loadGoReference();

test('matches dirhash.Hash1 on random file sets', { skip: 'skip' in ref ? ref.skip : false }, async () => {
  assert.ok(!('skip' in ref));
  const rand = seededRandom(0xd1a5);
  const alphabet = ['a', 'b', 'Z', '/', '.', ' ', '-', 'é', 'ａ', 'Ｂ', '\uffff', '\ue000', '𝐀', '🙂', '\u212a', '\u0000'];
  const sets: { name: string; content: Buffer }[][] = [];
  for (let i = 0; i < 300; i++) {
    const n = Math.floor(rand() * 8);
    const names = new Set<string>();
    for (let j = 0; j < n; j++) {
      names.add('m@v1.0.0/' + randomString(rand, alphabet, 1, 6));
    }
    if (rand() < 0.03) {
      names.add('bad\nname');
    }
    sets.push([...names].map((name) => ({ name, content: Buffer.from(randomString(rand, alphabet, 0, 20)) })));
  }
  const answers = await ref.ask<[string, string]>(
    sets.map((files) => ({ op: 'hash1', files: files.map((f) => ({ name: f.name, content: f.content.toString('base64') })) })),
  );
  answers.forEach(([want, wantErr], i) => {
    let got = '';
    let gotErr = '';
    try {
      got = hashFiles(sets[i]!);
    } catch (err) {
      gotErr = (err as Error).message;
    }
    assert.deepEqual([got, gotErr], [want, wantErr], JSON.stringify(sets[i]!.map((f) => f.name)));
  });
});
