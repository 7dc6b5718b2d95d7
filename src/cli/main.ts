#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type RunningServer, startServer, withGitdirs } from '../../routes/server.js';
import { loadServerConfig, type ServerConfig, TOKEN_SCOPES } from '../config.js';
import { createConfigProjectStore, createPersonalAccessToken, tokenSha256 } from '../config-stores.js';
import { errorLogFields, ProxyError } from '../errors.js';
import type { LogFn, Logger } from '../logger.js';
import { createPinoLogger, LOG_FORMATS, type LogFormat } from '../observability/log.js';
import { createProjectServices } from '../service/project-services.js';
import type { WarmProgress } from '../service/warm.js';
import { clientSetupCommand } from './client-setup.js';
import { DEMO_PROJECTS, DEMO_USERNAME, prepareDemo } from './demo.js';

/**
 * The `gitlab-go-proxy` command: `serve` (standalone server, or the built-in demo without
 * --config), `warm` (fills the disk cache) and `token create`. `npm start` runs `serve`, so `npm start -- --config FILE` works.
 */

const USAGE = `Usage:
  gitlab-go-proxy serve [--config FILE] [--host HOST] [--port PORT] [--log-level LEVEL] [--log-format json|pretty]
      Serves the projects in FILE (YAML or JSON). Without --config, serves a built-in demo
      created once under ./.data/demo and prints the commands to try it. SIGHUP re-reads FILE:
      projects, users and tokens change at once; a bad file is refused and the old one serves on.
      Logs go to stderr as JSON lines (--log-format pretty: one readable line per entry).
  gitlab-go-proxy check --config FILE
      Checks FILE, opens every repository and lists its modules and versions; exits 1 with one
      line per problem.
  gitlab-go-proxy token create --username NAME [--project ID_OR_PATH]... [--scopes SCOPE[,SCOPE]...] [--expires YYYY-MM-DD]
      Prints a new personal access token and the config snippet holding only its SHA-256 digest.
      --scopes is a comma-separated list of GitLab scopes (default read_api; warm needs api).
  gitlab-go-proxy warm --config FILE [--project ID_OR_PATH]... [--log-level LEVEL]
      Builds the disk cache (cache.dir) for every tagged version of the projects' modules.
      A server already running on the same cache.dir sees the new zips only after a restart.
  gitlab-go-proxy client-setup --config FILE (--project ID_OR_PATH | --group ID_OR_PATH) [--url URL] [--username NAME]
      Prints the go env -w lines (GOPROXY, GONOSUMDB), the .netrc lines and, for Go 1.24 and
      later, the GOAUTH note for one project or one group of this server (--url: its public URL).
  gitlab-go-proxy help
`;

const LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
type Level = (typeof LEVELS)[number];

export interface CliIo {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

class UsageError extends Error {}

/** Runs one command; resolves to the process exit code. */
export async function main(argv: readonly string[], io: CliIo = { out: process.stdout, err: process.stderr }): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serve(rest, io);
      case 'warm':
        return await warm(rest, io);
      case 'check':
        return await check(rest, io);
      case 'client-setup':
        return await clientSetupCommand(rest, io.out);
      case 'token':
        if (rest[0] !== 'create') throw new UsageError('expected "token create"');
        return tokenCreate(rest.slice(1), io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError || isParseArgsError(err)) {
      io.err.write(`gitlab-go-proxy: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof ProxyError && err.kind === 'config') {
      io.err.write(`gitlab-go-proxy: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

async function serve(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      config: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'log-level': { type: 'string', default: process.env['LOG_LEVEL'] ?? 'info' },
      'log-format': { type: 'string', default: process.env['LOG_FORMAT'] ?? 'json' },
    },
    strict: true,
    allowPositionals: false,
  });
  const logger = createPinoLogger({ level: logLevel(values['log-level']), format: logFormat(values['log-format']), stream: io.err });

  const demo = values.config === undefined ? await prepareDemo(path.resolve('.data', 'demo')) : undefined;
  let config: ServerConfig = await loadServerConfig(values.config ?? demo!.configFile);
  config = withOverrides(config, values.host, values.port);

  const configFile = values.config ?? demo!.configFile;
  const server = await startServer(config, { logger, configFile });
  io.out.write(`gitlab-go-proxy listening on ${server.url}\n`);
  io.out.write(
    config.cache.dir
      ? `disk cache in ${path.relative(process.cwd(), config.cache.dir) || '.'} (cache.dir)\n`
      : 'no disk cache (cache.dir: false): every zip is built again and pins last as long as the process\n',
  );
  const onHangup = (): void => void reload(server, configFile, values.host, values.port, logger);
  process.on('SIGHUP', onHangup);
  if (demo)
    io.out.write(demoInstructions(server.url, demo.token, demo.created, path.relative(process.cwd(), path.dirname(demo.configFile))));
  await untilSignal(server, io, logger);
  process.off('SIGHUP', onHangup);
  return 0;
}

/** SIGHUP: the file again, with the same command-line overrides; a bad one is logged and changes nothing. */
async function reload(
  server: RunningServer,
  file: string,
  host: string | undefined,
  port: string | undefined,
  logger: Logger,
): Promise<void> {
  try {
    const result = await server.reload(withOverrides(await loadServerConfig(file), host, port));
    if (result.unavailableProjects.length > 0) {
      logger.warn({ op: 'reload', unavailable: result.unavailableProjects }, 'some repositories cannot be opened');
    }
  } catch (err) {
    // Config errors name the file and the key, never a value (a digest, a path inside the file).
    const why = err instanceof ProxyError && err.kind === 'config' ? `: ${err.message.split('\n').join('; ')}` : '';
    logger.error({ op: 'reload', ...errorLogFields(err) }, `config refused, the running one keeps serving${why}`);
  }
}

/** `check`: what `serve` would find, project by project, without serving. */
async function check(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: [...args], options: { config: { type: 'string' } }, strict: true, allowPositionals: false });
  if (values.config === undefined) throw new UsageError('check needs --config FILE');
  let config: ServerConfig;
  try {
    config = await loadServerConfig(values.config);
  } catch (err) {
    if (!(err instanceof ProxyError && err.kind === 'config')) throw err;
    for (const line of err.message.split('\n')) io.out.write(`problem: ${line}\n`);
    return 1;
  }
  // Nothing is written: no disk cache, so checking a live server's config leaves its cache alone.
  const { dir: _unused, ...memoryOnly } = config.cache;
  const services = createProjectServices({ modulePrefix: config.modulePrefix, cache: memoryOnly });
  let problems = 0;
  try {
    for (const project of withGitdirs(config.projects)) {
      const served = { id: project.id, fullPath: project.path, gitdir: project.repository };
      const label = `project ${project.id} (${project.path})`;
      try {
        const modules = await services.modules(served);
        const listed = modules.map((m) => `${m.path} ${plural(m.versions.length, 'version')}`).join(', ');
        io.out.write(`ok: ${label}: ${plural(modules.length, 'module')}${listed ? `: ${listed}` : ''}\n`);
      } catch (err) {
        problems++;
        // The error's own one-line reason (a repository that cannot be opened, a corrupt pack), never its path.
        io.out.write(`problem: ${label}: ${err instanceof ProxyError ? err.message : 'cannot be read'}\n`);
      }
    }
  } finally {
    await services.close();
  }
  io.out.write(`${plural(config.projects.length, 'project')}, ${plural(problems, 'problem')}\n`);
  return problems === 0 ? 0 : 1;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function withOverrides(config: ServerConfig, host: string | undefined, port: string | undefined): ServerConfig {
  const server = { ...config.server };
  if (host !== undefined) server.host = host;
  if (port !== undefined) {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError('--port must be a number from 0 to 65535');
    server.port = n;
  }
  return { ...config, server };
}

/** Resolves once SIGINT or SIGTERM has closed the server; a second signal exits at once. */
function untilSignal(server: RunningServer, io: CliIo, logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    function onSignal(signal: NodeJS.Signals): void {
      if (stopping) {
        io.err.write(`gitlab-go-proxy: ${signal} again, exiting now\n`);
        process.exit(130);
      }
      stopping = true;
      logger.info({ op: 'shutdown', signal }, 'finishing running requests');
      void server.close().then(() => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        resolve();
      });
    }
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

async function warm(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      config: { type: 'string' },
      project: { type: 'string', multiple: true, default: [] },
      'log-level': { type: 'string', default: process.env['LOG_LEVEL'] ?? 'info' },
    },
    strict: true,
    allowPositionals: false,
  });
  const logger = createConsoleLogger(io.err, logLevel(values['log-level']));
  if (values.config === undefined) throw new UsageError('warm needs --config FILE');
  const config = await loadServerConfig(values.config);
  if (!config.cache?.dir) throw new UsageError(`${values.config} has no cache.dir: there is nothing to warm`);
  const store = createConfigProjectStore(withGitdirs(config.projects));
  const wanted = values.project.length === 0 ? config.projects.map((p) => String(p.id)) : values.project;
  const projects = wanted.map((ref) => {
    const project = store.findProject(ref);
    if (!project) throw new UsageError(`no project ${JSON.stringify(ref)} in ${values.config}`);
    return project;
  });
  // With a logger, a zip that fails while warming is logged (kind, code and operation), as the server logs it.
  const services = createProjectServices({ modulePrefix: config.modulePrefix, cache: config.cache, logger });
  let failed = 0;
  try {
    for (const project of projects) {
      try {
        const result = await services.warm(project, progressLine(io.err, `project ${project.id}`));
        // A version Go itself refuses (e.g. a zip with an invalid file name) is not a warming failure.
        io.out.write(`project ${project.id}: ${result.total} versions, ${result.built} cached, ${result.failed} refused by Go's rules\n`);
      } catch (err) {
        failed += 1;
        // The project id, not its repository path (see server.ts).
        io.err.write(
          `project ${project.id}: cannot warm (${err instanceof ProxyError ? err.message : err instanceof Error ? err.name : 'error'})\n`,
        );
      }
    }
  } finally {
    await services.close();
  }
  return failed === 0 ? 0 : 1;
}

/** A one-line progress bar on a terminal; a line per tenth of the work otherwise (logs, CI). */
function progressLine(out: NodeJS.WritableStream & { isTTY?: boolean }, label: string): (p: WarmProgress) => void {
  let lastTenth = -1;
  return (p) => {
    const share = p.total === 0 ? 1 : p.done / p.total;
    if (out.isTTY) {
      const width = 30;
      const filled = Math.round(share * width);
      out.write(`\r${label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${p.done}/${p.total}${p.done === p.total ? '\n' : ''}`);
      return;
    }
    const tenth = Math.floor(share * 10);
    if (tenth !== lastTenth) {
      lastTenth = tenth;
      out.write(`${label}: ${p.done}/${p.total}\n`);
    }
  };
}

function tokenCreate(args: readonly string[], io: CliIo): number {
  const { values } = parseArgs({
    args: [...args],
    options: {
      username: { type: 'string' },
      project: { type: 'string', multiple: true, default: [] },
      scopes: { type: 'string', default: 'read_api' },
      expires: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  // No default user: a snippet for the wrong user would grant the wrong user's projects.
  if (values.username === undefined || values.username.trim() === '') throw new UsageError('token create needs --username NAME');
  if (values.expires !== undefined && !isCalendarDate(values.expires)) {
    throw new UsageError(`--expires must be a real date such as 2027-01-01 (YYYY-MM-DD), got "${values.expires}"`);
  }
  const scopeList = values.scopes
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (scopeList.length === 0 || !scopeList.every((s) => TOKEN_SCOPES.includes(s))) {
    throw new UsageError(`--scopes: expected GitLab scope names such as read_api or api, got "${values.scopes}"`);
  }
  const token = createPersonalAccessToken();
  const projects = values.project.map((p) => (/^\d+$/.test(p) ? p : JSON.stringify(p))).join(', ');
  const scopes = scopeList.join(', ');
  const entry = [`sha256: "${tokenSha256(token)}"`, `scopes: [${scopes}]`, ...(values.expires ? [`expiresAt: ${values.expires}`] : [])];
  io.out.write(`New token (shown once; it is not stored anywhere):

  ${token}

Config snippet (holds only the token's SHA-256 digest):

users:
  - username: ${JSON.stringify(values.username)}
    projects: [${projects}]
    tokens:
      - { ${entry.join(', ')} }

Client side (~/.netrc; go sends it over HTTPS only):

  machine HOST login ${values.username} password ${token}
  machine HOST:PORT login ${values.username} password ${token}
`);
  return 0;
}

function demoInstructions(url: string, token: string, created: boolean, dataDir: string): string {
  const [hello, secret] = DEMO_PROJECTS;
  if (!hello || !secret) return '';
  const proxy = (id: number) => `${url}/api/v4/projects/${id}/packages/go`;
  return `
Demo ${created ? 'created' : 'reused'} in ${dataDir}/ (delete that folder to start over).
  project ${hello.id}: ${hello.path}, public   module ${hello.modulePath}   tags v1.0.0 v1.1.0 v1.2.0-rc.1
  project ${secret.id}: ${secret.path}, private  module ${secret.modulePath}  same tags
  user "${DEMO_USERNAME}", token ${token} (kept in ${dataDir}/token.txt for this demo only)

Try the public project with go (another terminal; plain http needs no credentials):

  mkdir -p /tmp/gitlab-go-proxy-demo && cd /tmp/gitlab-go-proxy-demo && go mod init example.com/try
  export GOPROXY=${proxy(hello.id)} GONOSUMDB=${hello.modulePath.split('/')[0]}
  go list -m -versions ${hello.modulePath}
  go get ${hello.modulePath}@latest
  go mod download -json ${hello.modulePath}@v1.2.0-rc.1

The private project needs the token. go sends ~/.netrc credentials only over HTTPS (set
server.tls in a config file, see README.md), so over plain http try it with curl:

  curl -i ${proxy(secret.id)}/${secret.modulePath}/@v/list                          # 401, no token
  curl -u ${DEMO_USERNAME}:${token} ${proxy(secret.id)}/${secret.modulePath}/@v/list
  curl -H 'PRIVATE-TOKEN: ${token}' ${proxy(secret.id)}/${secret.modulePath}/@v/v1.1.0.info
  curl -u ${DEMO_USERNAME}:wrong-token ${proxy(secret.id)}/${secret.modulePath}/@v/list    # 404, like an unknown project

Stop with Ctrl-C.
`;
}

/** Pino-compatible logger writing one line per entry: time, level, message, then the fields as JSON. */
export function createConsoleLogger(stream: NodeJS.WritableStream, level: Level): Logger {
  const threshold = LEVELS.indexOf(level);
  const make = (name: Level): LogFn =>
    LEVELS.indexOf(name) < threshold
      ? () => {}
      : (objOrMsg: unknown, msg?: string) => {
          const fields = typeof objOrMsg === 'object' && objOrMsg !== null ? objOrMsg : undefined;
          const text = fields ? (msg ?? '') : String(objOrMsg);
          stream.write(`${new Date().toISOString()} ${name.toUpperCase()} ${text}${fields ? ` ${JSON.stringify(fields)}` : ''}\n`);
        };
  return { debug: make('debug'), info: make('info'), warn: make('warn'), error: make('error') };
}

function isLevel(value: string): value is Level {
  return (LEVELS as readonly string[]).includes(value);
}

function logFormat(value: string): LogFormat {
  if (!(LOG_FORMATS as readonly string[]).includes(value)) throw new UsageError(`--log-format must be one of ${LOG_FORMATS.join(', ')}`);
  return value as LogFormat;
}

function logLevel(value: string): Level {
  if (!isLevel(value)) throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}`);
  return value;
}

/** YYYY-MM-DD naming a day that exists (2027-02-29 and 2027-13-45 do not), as the config file's `expiresAt` takes it. */
export function isCalendarDate(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

/** True when this file is the program being run (also through the npm bin symlink). */
function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}

if (isMain()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      // ProxyError messages are written to be shown; anything else may hold a path, so only its class.
      const what = err instanceof ProxyError ? err.message : `unexpected ${err instanceof Error ? err.name : 'error'}`;
      process.stderr.write(`gitlab-go-proxy: ${what}\n`);
      process.exitCode = 1;
    },
  );
}
