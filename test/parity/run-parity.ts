/**
 * CLI of the randomized parity test (issue 3):
 *
 *   npm run test:parity -- --repos 200 [--seed 1] [--cache] [--only 3,17] [--isolated] [--keep] [--verbose]
 *   node dist/test/parity/run-parity.js --repos 200 --seed 1 --cache
 *
 * Exit code 0 when the proxy agreed with `GOPROXY=direct` everywhere, 1 when there was any
 * difference, 2 when the run itself could not be done (bad arguments, no `go`, server did not start).
 */
import { goVersion } from '../helpers/go-client.js';
import { CLI_PATH, cliAvailable } from '../helpers/proxy-process.js';
import { type ParityOptions, runParity } from './parity.js';

const USAGE = `usage: run-parity [--repos N] [--seed S] [--cache] [--only I[,J…]] [--isolated] [--keep] [--verbose]
  --repos N     number of generated repositories (default 20)
  --seed S      seed of the generator (default 1); a run is reproducible from (seed, index)
  --cache       run the server with a cache directory and compare again after a restart
  --only I,J    only these repository indexes (reproduce a difference)
  --isolated    one go invocation per query (slower; default batches the queries of a repository)
  --keep        keep the temporary directory (repositories, server config and logs)
  --verbose     describe every repository, not only those with differences`;

function parseArgs(argv: string[]): ParityOptions {
  const options: ParityOptions = { seed: 1, repos: 20 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const int = (): number => {
      const v = value();
      if (!/^\d+$/.test(v)) throw new Error(`${flag}: expected a non-negative integer, got ${JSON.stringify(v)}`);
      return Number(v);
    };
    switch (flag) {
      case '--repos':
        options.repos = int();
        break;
      case '--seed':
        options.seed = int();
        break;
      case '--cache':
        options.cache = true;
        break;
      case '--only':
        options.only = value()
          .split(',')
          .filter((x) => x !== '')
          .map((x) => {
            if (!/^\d+$/.test(x)) throw new Error(`--only: ${JSON.stringify(x)} is not an index`);
            return Number(x);
          });
        break;
      case '--isolated':
        options.isolated = true;
        break;
      case '--keep':
        options.keep = true;
        break;
      case '--verbose':
        options.verbose = true;
        break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  return options;
}

async function main(): Promise<number> {
  let options: ParityOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`run-parity: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  const version = await goVersion();
  if (!version) {
    console.error('run-parity: the `go` command is required (go 1.19.8 is the reference)');
    return 2;
  }
  if (!cliAvailable()) {
    console.error(`run-parity: ${CLI_PATH} does not exist; build first (npm run build)`);
    return 2;
  }
  console.log(`run-parity: ${version}`);
  try {
    const report = await runParity(options);
    return report.differences.length > 0 ? 1 : 0;
  } catch (err) {
    console.error(`run-parity: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 2;
  }
}

// Ctrl-C / kill: exit normally so that the 'exit' hooks stop the server and remove temp dirs.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`run-parity: ${signal}, stopping`);
    process.exit(130);
  });
}

process.exitCode = await main();
