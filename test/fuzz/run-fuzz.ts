/**
 * `npm run fuzz`: a long randomized campaign against the real standalone server over real
 * repositories. Prints the inputs tried and the statuses seen; fails on any 5xx, any request that
 * gets no answer, or any answer that holds a token or a repository path.
 *
 *   npm run fuzz -- [--requests 20000] [--seconds 300] [--seed N] [--concurrency 8]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { startServer } from '../../routes/server.js';
import { parseServerConfig } from '../../src/config.js';
import { credentialHeaders, proxyTail } from '../helpers/arbitraries.js';
import { makeBareRepository, makeTempDir, standardHistory, TOKENS, usersConfig } from '../http/fixtures.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    seconds: { type: 'string', default: '300' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    concurrency: { type: 'string', default: '8' },
  },
});
const total = Number(values.requests);
const deadline = Date.now() + Number(values.seconds) * 1000;
const seed = Number(values.seed);
const PREFIX = 'gitlab.example.com';

const tmp = await makeTempDir('gitlab-go-proxy-fuzz-');
const projects = [
  { id: 1, path: 'group/public', visibility: 'public' },
  { id: 2, path: 'group/internal', visibility: 'internal' },
  { id: 3, path: 'group/project', visibility: 'private' },
] as const;
for (const p of projects) await makeBareRepository(path.join(tmp.dir, 'repos', `${p.path}.git`), standardHistory(`${PREFIX}/${p.path}`));
const server = await startServer(
  parseServerConfig(
    {
      server: { host: '127.0.0.1', port: 0 },
      modulePrefix: PREFIX,
      projects: projects.map((p) => ({ id: p.id, path: p.path, repository: `repos/${p.path}.git`, visibility: p.visibility })),
      users: usersConfig(3),
    },
    { file: 'fuzz config', baseDir: tmp.dir },
  ),
);

const modules = projects.flatMap((p) => [
  `${PREFIX}/${p.path}`,
  `${PREFIX}/${p.path}/v2`,
  `${PREFIX}/${p.path}/sub`,
  `${PREFIX}/${p.path.replace('group', 'Group')}`,
]);
const request = fc.record({
  id: fc.oneof(
    fc.constantFrom('1', '2', '3', '4', 'group%2Fpublic', 'group%2Fproject', 'GROUP%2FPROJECT', '%ZZ', '0', '99999999999999999999'),
    fc.string({ maxLength: 8 }),
  ),
  tail: proxyTail(modules),
  method: fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'POST', 'OPTIONS'),
  headers: credentialHeaders(Object.values(TOKENS)),
  etag: fc.boolean(),
});
const secrets = [...Object.values(TOKENS), tmp.dir];
const statuses = new Map<number, number>();
const failures: string[] = [];
let tried = 0;

const samples = fc.sample(request, { numRuns: total, seed });
async function worker(): Promise<void> {
  while (tried < samples.length && Date.now() < deadline && failures.length < 20) {
    const r = samples[tried++]!;
    let url: URL;
    try {
      url = new URL(`${server.url}/api/v4/projects/${r.id}/packages/go${r.tail}`);
    } catch {
      continue;
    }
    const what = `${r.method} ${url.pathname}${url.search} ${JSON.stringify(r.headers)}`;
    try {
      const res = await fetch(url, {
        method: r.method,
        headers: { ...r.headers, ...(r.etag && { 'if-none-match': '"x"' }) },
        signal: AbortSignal.timeout(10_000),
      });
      const body = Buffer.from(await res.arrayBuffer()).toString('latin1');
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status >= 500) failures.push(`${res.status}: ${what}`);
      const leaked = secrets.find((s) => body.includes(s) || [...res.headers.values()].some((v) => v.includes(s)));
      if (leaked) failures.push(`a secret in the answer: ${what}`);
    } catch (err) {
      failures.push(`no answer (${(err as Error).name}): ${what}`);
    }
  }
}
const started = Date.now();
await Promise.all(Array.from({ length: Number(values.concurrency) }, worker));
await server.close();
await tmp.remove();

const seen = [...statuses]
  .sort(([a], [b]) => a - b)
  .map(([s, n]) => `${s}: ${n}`)
  .join(', ');
process.stdout.write(`fuzz: seed ${seed}, ${tried} inputs tried in ${((Date.now() - started) / 1000).toFixed(1)} s; statuses ${seen}\n`);
for (const f of failures) process.stdout.write(`FAIL ${f}\n`);
process.stdout.write(failures.length === 0 ? 'fuzz: clean\n' : `fuzz: ${failures.length} failures\n`);
process.exitCode = failures.length === 0 ? 0 : 1;
