/**
 * A quick smoke timing, not the real benchmark: builds a repository with the git CLI and reads
 * every object through both object stores, next to `git cat-file --batch` for scale.
 *
 *   node dist/test/bench/git-read-smoke.js [files=2000] [commits=20]
 */
import { performance } from 'node:perf_hooks';
import { createPackObjectStore } from '../../src/git/pack-object-store.js';
import type { ObjectStore } from '../../src/git/types.js';
import { BASE_TIME, catObjects, createSandbox, fastImport, pseudoText } from '../helpers/git-sample-repos.js';
import { createIsomorphicGitObjectStore } from '../helpers/isomorphic-git-object-store.js';

const files = Number(process.argv[2] ?? 2000);
const commits = Number(process.argv[3] ?? 20);

function buildStream(): string {
  const contents = Array.from({ length: files }, (_, i) => pseudoText(i + 1, 2000 + (i % 7) * 1500));
  let stream = '';
  for (let c = 0; c < commits; c++) {
    stream += `commit refs/heads/main\nmark :${c + 1}\ncommitter B <b@example.com> ${BASE_TIME + c * 60} +0000\ndata 2\nc\n`;
    if (c > 0) stream += `from :${c}\n`;
    const step = c === 0 ? 1 : 37;
    for (let i = c % step; i < files; i += step) {
      if (c > 0) contents[i] = `${contents[i]!.slice(0, 500)}edit ${c}\n${contents[i]!.slice(500)}`;
      const data = contents[i]!;
      stream += `M 100644 inline dir${i % 50}/sub${i % 7}/file${i}.txt\ndata ${Buffer.byteLength(data)}\n${data}\n`;
    }
  }
  return `${stream}done\n`;
}

async function timeStore(label: string, open: () => Promise<ObjectStore>, oids: string[]): Promise<void> {
  for (const pass of ['first', 'second']) {
    const start = performance.now();
    const store = await open();
    let bytes = 0;
    for (const oid of oids) bytes += (await store.read(oid))!.data.length;
    const ms = performance.now() - start;
    console.log(`${label.padEnd(16)} ${pass.padEnd(7)} ${ms.toFixed(0).padStart(7)} ms  ${(bytes / 1e6).toFixed(1)} MB`);
    await store.close();
  }
}

async function main(): Promise<void> {
  const sandbox = createSandbox();
  try {
    const repo = sandbox.init('bench', { bare: true });
    let start = performance.now();
    fastImport(repo, buildStream());
    repo.raw(['repack', '-a', '-d', '-q', '--depth=50']);
    console.log(`built repository in ${(performance.now() - start).toFixed(0)} ms`);
    const oids = repo.text(['cat-file', '--batch-all-objects', '--batch-check=%(objectname)']).split('\n');
    start = performance.now();
    catObjects(repo, oids);
    console.log(
      `${'git cat-file'.padEnd(16)} ${'batch'.padEnd(7)} ${(performance.now() - start).toFixed(0).padStart(7)} ms  (${oids.length} objects)`,
    );
    await timeStore('pack', () => createPackObjectStore(repo.gitdir), oids);
    await timeStore('isomorphic-git', () => createIsomorphicGitObjectStore(repo.gitdir), oids);
  } finally {
    sandbox.cleanup();
  }
}

await main();
