import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CI_MODULE = new URL('../../helpers/ci.js', import.meta.url).href;

test('any non-empty CI other than false or 0 means CI, for every helper that asks', async () => {
  const cases: [string | undefined, boolean][] = [
    ['true', true],
    ['1', true],
    ['yes', true],
    ['woodpecker', true],
    ['', false],
    ['false', false],
    ['0', false],
    [undefined, false],
  ];
  for (const [value, expected] of cases) {
    const env = { ...process.env };
    if (value === undefined) delete env['CI'];
    else env['CI'] = value;
    const { stdout } = await run(
      process.execPath,
      ['--input-type=module', '-e', `const m = await import(${JSON.stringify(CI_MODULE)}); console.log(m.IN_CI)`],
      { env },
    );
    assert.equal(stdout.trim(), String(expected), `CI=${value}`);
  }
});
