import fs from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import git from 'isomorphic-git';
import { createPersonalAccessToken, tokenSha256 } from '../config-stores.js';

/**
 * The built-in demo behind `npm start` with no `--config`: two small sample modules in bare git
 * repositories, a public project (id 1) and a private one (id 2), and one user with a token.
 * Everything is created once under the data folder and reused on later starts.
 *
 * The demo keeps its plain token in `token.txt` (mode 0600) so it can print it on every start;
 * a real config stores only the token's SHA-256 digest.
 */

export const DEMO_MODULE_PREFIX = 'gitlab.example.com';

export interface DemoProject {
  id: number;
  path: string;
  modulePath: string;
  visibility: 'public' | 'private';
}

export const DEMO_PROJECTS: readonly DemoProject[] = [
  { id: 1, path: 'demo/hello', modulePath: `${DEMO_MODULE_PREFIX}/demo/hello`, visibility: 'public' },
  { id: 2, path: 'demo/secret', modulePath: `${DEMO_MODULE_PREFIX}/demo/secret`, visibility: 'private' },
];

export const DEMO_USERNAME = 'demo';

export interface Demo {
  /** The demo's config file (YAML). */
  configFile: string;
  /** The demo user's plain token. */
  token: string;
  /** True when this call created the demo; false when it reused an earlier one. */
  created: boolean;
}

/** Creates the demo under `dataDir` unless it is there already. */
export async function prepareDemo(dataDir: string): Promise<Demo> {
  const configFile = path.join(dataDir, 'config.yaml');
  const tokenFile = path.join(dataDir, 'token.txt');
  if (fs.existsSync(configFile) && fs.existsSync(tokenFile)) {
    return { configFile, token: (await readFile(tokenFile, 'utf8')).trim(), created: false };
  }

  // Built beside the target and renamed into place, so an interrupted first start leaves no half demo.
  const staging = `${dataDir}.tmp-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const token = createPersonalAccessToken();
  for (const project of DEMO_PROJECTS) {
    await createSampleRepository(path.join(staging, 'repos', `${project.path}.git`), project.modulePath);
  }
  await writeFile(path.join(staging, 'config.yaml'), demoConfig(tokenSha256(token)));
  await writeFile(path.join(staging, 'token.txt'), `${token}\n`, { mode: 0o600 });
  await rm(dataDir, { recursive: true, force: true });
  await mkdir(path.dirname(dataDir), { recursive: true });
  await rename(staging, dataDir);
  return { configFile, token, created: true };
}

function demoConfig(digest: string): string {
  const projects = DEMO_PROJECTS.map(
    (p) => `  - { id: ${p.id}, path: ${p.path}, repository: repos/${p.path}.git, visibility: ${p.visibility} }`,
  ).join('\n');
  return `# Written by \`gitlab-go-proxy serve\` in demo mode (no --config). Paths are relative to this file.
# The demo keeps the plain token in token.txt so it can print it at each start; a real config
# stores only the SHA-256 digest below (see \`gitlab-go-proxy token create\`).
server: { host: 127.0.0.1, port: 8080 }
modulePrefix: ${DEMO_MODULE_PREFIX}
projects:
${projects}
users:
  - username: ${DEMO_USERNAME}
    projects: [2]
    tokens:
      - { sha256: "${digest}", scopes: [read_api] }
cache: { dir: cache }
`;
}

interface SampleCommit {
  /** Seconds since the epoch; fixed, so every demo has the same hashes. */
  time: number;
  message: string;
  files: Record<string, string>;
  tag?: { name: string; annotated: boolean };
}

function sampleHistory(modulePath: string): SampleCommit[] {
  const goMod = `module ${modulePath}\n\ngo 1.19\n`;
  const name = path.posix.basename(modulePath);
  const hello = `// Package ${name} is the sample module of the gitlab-go-proxy demo.
package ${name}

// Hello returns a greeting.
func Hello() string {
	return "Hello, world."
}
`;
  const greet = `package ${name}

// Greet returns a greeting for someone.
func Greet(who string) string {
	return "Hello, " + who + "."
}
`;
  const test = `package ${name}

import "testing"

func TestGreet(t *testing.T) {
	if got := Greet("Gopher"); got != "Hello, Gopher." {
		t.Fatalf("Greet() = %q", got)
	}
}
`;
  return [
    {
      time: 1704880800,
      message: 'First version',
      files: { 'go.mod': goMod, [`${name}.go`]: hello },
      tag: { name: 'v1.0.0', annotated: false },
    },
    {
      time: 1707559200,
      message: 'Add Greet',
      files: { 'go.mod': goMod, [`${name}.go`]: hello, 'greet.go': greet },
      tag: { name: 'v1.1.0', annotated: true },
    },
    {
      time: 1710064800,
      message: 'Test Greet',
      files: { 'go.mod': goMod, [`${name}.go`]: hello, 'greet.go': greet, 'greet_test.go': test },
      tag: { name: 'v1.2.0-rc.1', annotated: false },
    },
  ];
}

/** A bare repository written with isomorphic-git (there is no git binary at runtime). */
async function createSampleRepository(gitdir: string, modulePath: string): Promise<void> {
  await mkdir(gitdir, { recursive: true });
  await git.init({ fs, gitdir, bare: true, defaultBranch: 'main' });
  const who = (timestamp: number) => ({ name: 'Demo', email: 'demo@example.com', timestamp, timezoneOffset: 0 });
  let parent: string | undefined;
  for (const step of sampleHistory(modulePath)) {
    const tree = await git.writeTree({
      fs,
      gitdir,
      tree: await Promise.all(
        Object.entries(step.files)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(async ([filepath, text]) => ({
            mode: '100644',
            path: filepath,
            type: 'blob' as const,
            oid: await git.writeBlob({ fs, gitdir, blob: Buffer.from(text, 'utf8') }),
          })),
      ),
    });
    const commit: string = await git.writeCommit({
      fs,
      gitdir,
      commit: { message: `${step.message}\n`, tree, parent: parent ? [parent] : [], author: who(step.time), committer: who(step.time) },
    });
    if (step.tag?.annotated) {
      await git.annotatedTag({ fs, gitdir, ref: step.tag.name, object: commit, message: `${step.tag.name}\n`, tagger: who(step.time) });
    } else if (step.tag) {
      await git.tag({ fs, gitdir, ref: step.tag.name, object: commit });
    }
    parent = commit;
  }
  if (parent) await git.writeRef({ fs, gitdir, ref: 'refs/heads/main', value: parent, force: true });
}
