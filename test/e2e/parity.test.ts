/**
 * Issue 3, randomized parity test, small N: five generated repositories of seed 1, chosen at run
 * time (coveringSelection) so that together they exercise as many of the generator's features as
 * possible (nested modules, /vN in both layouts, +incompatible, vendor, symlinks, LICENSE placement,
 * .gitattributes at several depths, working-tree-encoding, invalid and non-ASCII names, odd tags,
 * retractions, branches, merges, an unborn HEAD, non-UTC offsets, …). Each is compared with
 * `GOPROXY=direct` on every module path, every listed version and the generated revision queries.
 * A second test runs two of them with a cache directory, cold and again after a server restart.
 * The large run is `npm run test:parity -- --repos 200`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goSkipReason } from '../helpers/go-client.js';
import { CLI_PATH, cliAvailable } from '../helpers/proxy-process.js';
import { runParity } from '../parity/parity.js';
import { coveringSelection } from '../parity/random-repo.js';

const SEED = 1;
const selection = coveringSelection(SEED, 5);
const INDEXES = selection.indexes;

const skip = (await goSkipReason()) ?? (cliAvailable() ? null : `${CLI_PATH} is missing (build first)`);

describe('randomized parity with GOPROXY=direct (issue 3)', { skip: skip ?? false }, () => {
  it(`seed ${SEED}, repositories ${INDEXES.join(', ')}: no differences`, { timeout: 120_000 }, async () => {
    const lines: string[] = [];
    const report = await runParity({ seed: SEED, repos: INDEXES.length, only: INDEXES, log: (l) => lines.push(l) });
    assert.ok(report.comparisons > 100, `only ${report.comparisons} comparisons:\n${lines.join('\n')}`);
    assert.ok(selection.covered.length >= 30, `the selection covers only: ${selection.covered.join(', ')}`);
    assert.equal(report.differences.length, 0, `the proxy differs from direct mode:\n${lines.join('\n')}`);
  });

  it(`seed ${SEED}, repositories ${INDEXES.slice(0, 2).join(', ')} with a cache directory (cold, then warm after a restart)`, {
    timeout: 120_000,
  }, async () => {
    const lines: string[] = [];
    const report = await runParity({ seed: SEED, repos: 2, only: INDEXES.slice(0, 2), cache: true, log: (l) => lines.push(l) });
    assert.equal(report.differences.length, 0, `the proxy differs from direct mode:\n${lines.join('\n')}`);
  });
});
