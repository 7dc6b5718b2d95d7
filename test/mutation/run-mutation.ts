/**
 * `npm run mutation`: a small mutation runner over the compiled core folders. Each mutant changes
 * one operator on one line of one `dist/src/<folder>/*.js` file; the folder's own tests then
 * run, and a mutant is killed when they fail (or time out). It prints the score per folder and
 * every surviving mutant.
 *
 * Why not Stryker: its Node test runner support goes through the "command" runner, which runs
 * the whole command for every mutant without per-test coverage; measured here, the unit suite
 * alone takes ~25 s, so the few thousand mutants of the core folders would take a day. This
 * runner samples a fixed, seeded number of mutants per folder and runs only that folder's tests.
 *
 *   npm run mutation -- [--per-folder 40] [--seed 1] [--folders xmod,git,...] [--list] [--only 3,17]
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { seededRandom } from '../helpers/seeded-random.js';
import { KNOWN_SURVIVORS } from './equivalent.js';

const run = promisify(execFile);
const DIST = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

/** The core folders and the tests that guard each (compiled paths under dist/). */
const FOLDERS: Record<string, string[]> = {
  xmod: ['test/unit/xmod', 'test/unit/properties.test.js'],
  // Go's direct mode is guarded mostly end to end, against the real go: slow, but the truth.
  modfetch: ['test/unit/modfetch', 'test/unit/service/module-service.test.js', 'test/e2e/go-cases.test.js'],
  git: ['test/unit/git'],
  zip: ['test/unit/zip'],
  service: ['test/unit/service', 'test/unit/contracts.test.js', 'test/unit/config.test.js'],
  // Its own unit tests, and the two heaviest users of its caches.
  support: ['test/unit/support', 'test/unit/git/repository.test.js', 'test/unit/zip/cache.test.js'],
};

/** Operators: a pattern to find on a line and what to put instead. */
const OPERATORS: { name: string; find: RegExp; replace: string }[] = [
  { name: '=== → !==', find: / === /g, replace: ' !== ' },
  { name: '!== → ===', find: / !== /g, replace: ' === ' },
  { name: '< → <=', find: / < /g, replace: ' <= ' },
  { name: '<= → <', find: / <= /g, replace: ' < ' },
  { name: '> → >=', find: / > /g, replace: ' >= ' },
  { name: '>= → >', find: / >= /g, replace: ' > ' },
  { name: '&& → ||', find: / && /g, replace: ' || ' },
  { name: '|| → &&', find: / \|\| /g, replace: ' && ' },
  { name: 'true → false', find: /\btrue\b/g, replace: 'false' },
  { name: 'false → true', find: /\bfalse\b/g, replace: 'true' },
  { name: '+ 1 → - 1', find: / \+ 1\b/g, replace: ' - 1' },
  { name: '- 1 → + 1', find: / - 1\b/g, replace: ' + 1' },
  { name: '++ → --', find: /\+\+/g, replace: '--' },
];

/** `if (cond) {`, `if (cond) return …`, …: the condition negated. */
const IF_LINE = /^(\s*(?:\} else )?)if \((.+)\) (\{|return\b|throw\b|continue;|break;)(.*)$/;

interface Mutant {
  folder: string;
  file: string;
  line: number;
  operator: string;
  original: string;
  mutated: string;
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? jsFiles(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : [],
  );
}

function testFiles(paths: string[]): string[] {
  return paths.flatMap((p) => (p.endsWith('.js') ? [join(DIST, p)] : jsFiles(join(DIST, p)).filter((f) => f.endsWith('.test.js'))));
}

function candidates(folder: string): Mutant[] {
  const out: Mutant[] = [];
  for (const file of jsFiles(join(DIST, 'src', folder))) {
    // Generated data, not logic.
    if (file.endsWith('unicode-fold-table.js')) continue;
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((text, i) => {
      const code = text.trim();
      if (code.startsWith('//') || code.startsWith('*') || code.startsWith('/*') || code.startsWith('import ')) return;
      for (const op of OPERATORS) {
        for (const match of text.matchAll(op.find)) {
          const at = match.index;
          // Inside a string or template on this line: not code.
          const before = text.slice(0, at);
          if ((before.match(/'/g) ?? []).length % 2 === 1 || (before.match(/`/g) ?? []).length % 2 === 1) continue;
          const mutated = text.slice(0, at) + op.replace + text.slice(at + match[0].length);
          out.push({ folder, file, line: i + 1, operator: op.name, original: text, mutated });
        }
      }
      const negated = IF_LINE.exec(text);
      if (negated) {
        const [, lead, cond, keyword, rest] = negated;
        out.push({ folder, file, line: i + 1, operator: 'negate if', original: text, mutated: `${lead}if (!(${cond})) ${keyword}${rest}` });
      }
    });
  }
  return out;
}

/** The file being mutated and its source, put back if the run is interrupted. */
let pending: { file: string; source: string } | null = null;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (pending) writeFileSync(pending.file, pending.source);
    process.exit(130);
  });
}

async function killed(mutant: Mutant, tests: string[], timeoutMs: number): Promise<boolean> {
  const source = readFileSync(mutant.file, 'utf8');
  const lines = source.split('\n');
  lines[mutant.line - 1] = mutant.mutated;
  pending = { file: mutant.file, source };
  writeFileSync(mutant.file, lines.join('\n'));
  try {
    await run(process.execPath, ['--test', '--test-concurrency=2', ...tests], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    return false;
  } catch (err) {
    // Killed means the tests failed (an exit code) or hung (the timeout's signal); anything else
    // is the runner's own failure and must not count as a kill.
    const { code, killed } = err as { code?: unknown; killed?: boolean };
    if (typeof code !== 'number' && !killed) throw err;
    if (process.env['MUTATION_DEBUG']) process.stderr.write(`\n${String((err as { stdout?: string }).stdout ?? err).slice(-3000)}\n`);
    return true;
  } finally {
    writeFileSync(mutant.file, source);
    pending = null;
  }
}

/**
 * A seeded shuffle of the folder's candidates, then the first N: the same sample every run with
 * the same seed, whichever other folders the run covers.
 */
function sampled(folder: string, perFolder: number, seed: number): { all: Mutant[]; sample: Mutant[] } {
  const all = candidates(folder);
  const rng = seededRandom(seed * 31 + Object.keys(FOLDERS).indexOf(folder));
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return { all, sample: all.slice(0, perFolder) };
}

function knownReason(mutant: Mutant): string | undefined {
  const file = relative(DIST, mutant.file);
  return KNOWN_SURVIVORS.find((k) => k.file === file && k.operator === mutant.operator && k.line === mutant.original.trim())?.reason;
}

function describe(mutant: Mutant): string {
  return `${mutant.folder}  ${relative(DIST, mutant.file)}:${mutant.line}  ${mutant.operator}\n    - ${mutant.original.trim()}\n    + ${mutant.mutated.trim()}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'per-folder': { type: 'string', default: '40' },
      seed: { type: 'string', default: '1' },
      folders: { type: 'string', default: Object.keys(FOLDERS).join(',') },
      // Print the seeded sample and run nothing: to read the mutants before writing tests.
      list: { type: 'boolean', default: false },
      // Only these positions (1-based) of each sample: to re-check survivors after adding tests.
      only: { type: 'string', default: '' },
    },
  });
  const perFolder = Number(values['per-folder']);
  const seed = Number(values.seed);
  const summary: string[] = [];
  const survivors: string[] = [];
  const equivalents: string[] = [];
  for (const folder of values.folders.split(',')) {
    const tests = testFiles(FOLDERS[folder]!);
    if (values.list) {
      for (const [i, m] of sampled(folder, perFolder, seed).sample.entries()) process.stdout.write(`${i + 1}. ${describe(m)}\n`);
      continue;
    }
    const started = performance.now();
    try {
      await run(process.execPath, ['--test', '--test-concurrency=2', ...tests], { maxBuffer: 64 * 1024 * 1024 });
    } catch {
      // Mutants are judged against a green baseline only.
      summary.push(`${folder.padEnd(10)} skipped: its tests fail without any mutant`);
      continue;
    }
    const baselineMs = performance.now() - started;
    const { all, sample: full } = sampled(folder, perFolder, seed);
    const positions = values.only === '' ? null : new Set(values.only.split(',').map(Number));
    const sample = positions === null ? full : full.filter((_, i) => positions.has(i + 1));
    let dead = 0;
    let known = 0;
    for (const [n, mutant] of sample.entries()) {
      const reason = knownReason(mutant);
      if (reason !== undefined) {
        known++;
        equivalents.push(`${describe(mutant)}\n    (${reason})`);
        continue;
      }
      const isKilled = await killed(mutant, tests, Math.ceil(Math.max(30_000, baselineMs * 3)));
      if (isKilled) dead++;
      else {
        survivors.push(describe(mutant));
        process.stderr.write(`\nsurvived: ${describe(mutant)}\n`);
      }
      process.stderr.write(`\r${folder}: ${n + 1}/${sample.length}, ${dead} killed`);
    }
    process.stderr.write('\n');
    const judged = sample.length - known;
    summary.push(
      `${folder.padEnd(10)} ${String(dead).padStart(4)}/${String(judged).padEnd(4)} killed  ${((100 * dead) / Math.max(1, judged)).toFixed(0).padStart(3)}%   (${known} known equivalent left out; ${dead}/${sample.length} = ${((100 * dead) / Math.max(1, sample.length)).toFixed(0)}% counting them; ${all.length} candidates, baseline ${(baselineMs / 1000).toFixed(1)} s)`,
    );
  }
  process.stdout.write(
    `mutation score per folder (seed ${values.seed}, ${perFolder} mutants each):\n${summary.join('\n')}\n\nsurvivors:\n${survivors.join('\n') || '(none)'}\n\nknown equivalent or not worth a test (test/mutation/equivalent.ts):\n${equivalents.join('\n') || '(none)'}\n`,
  );
}

await main();
