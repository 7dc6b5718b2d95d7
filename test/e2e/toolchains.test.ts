/**
 * Every Go from 1.19 to 1.24 (issue 10): the end-to-end suites run with `go` on PATH (Debian 12's
 * 1.19) as part of `npm test`, and here once more with Go 1.24 (Debian 13's golang-1.24-go, which
 * .ci/run installs beside it). Differences between the versions are asserted in the suites
 * themselves (goMinor): GOAUTH, `host:port` netrc lines, credentials in the GOPROXY URL.
 * The randomized parity suite stays on one toolchain: it compares the proxy with direct mode of
 * the same go, and its cost would double `npm test`'s.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { IN_CI } from '../helpers/ci.js';

const GO_124 = process.env.GO_124_BIN || '/usr/lib/go-1.24/bin/go';
const SUITES = ['client-discovery.test.js', 'go-client.test.js', 'gitlab-cases.test.js', 'go-cases.test.js'];
const here = dirname(fileURLToPath(import.meta.url));

const available = existsSync(GO_124);
if (!available && IN_CI) throw new Error(`Go 1.24 is required in CI at ${GO_124} (.ci/run installs golang-1.24-go)`);

test('the end-to-end suites pass with Go 1.24 too', {
  skip: available ? false : `Go 1.24 not installed at ${GO_124} (it runs in CI)`,
  timeout: 15 * 60_000,
}, async () => {
  const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=tap', ...SUITES.map((s) => join(here, s))], {
    // Without NODE_TEST_CONTEXT, or the inner runner would take itself for a test file and run nothing.
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT')), GO_E2E_BIN: GO_124 },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const code = await new Promise<number | null>((done) => child.once('exit', done));
  const failures = out
    .split('\n')
    .filter((line) => /^\s*not ok /.test(line) || /^\s+error: /.test(line))
    .slice(0, 40)
    .join('\n');
  assert.equal(code, 0, `with ${GO_124}:\n${failures}\n${out.split('\n').slice(-12).join('\n')}`);
  assert.match(out, /# pass [1-9]/);
});
