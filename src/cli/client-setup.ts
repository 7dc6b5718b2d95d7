import { parseArgs } from 'node:util';
import { loadServerConfig, type ServerConfig } from '../config.js';
import { createConfigGroupStore } from '../config-groups.js';
import { createConfigProjectStore } from '../config-stores.js';
import { ConfigError } from '../errors.js';
import { moduleRootOf } from '../service/module-roots.js';
import type { Project } from '../service/stores.js';

/** `gitlab-go-proxy client-setup`: what a Go developer puts in `go env` and `.netrc` for this server. */

export interface ClientSetupRequest {
  /** A project id or full path; or */
  project?: string | undefined;
  /** a group id or full path (one GOPROXY for all its projects). */
  group?: string | undefined;
  /** The server's public base URL; defaults to `server.externalUrl`, then to host and port of `server`. */
  url?: string | undefined;
  /** The `.netrc` login (ignored for personal access tokens, matched for deploy tokens). */
  username?: string | undefined;
}

/** The setup text for one project or group of a checked config; throws ConfigError when it names none. */
export function clientSetup(config: ServerConfig, request: ClientSetupRequest): string {
  if ((request.project === undefined) === (request.group === undefined)) throw new ConfigError('give one of --project or --group');
  const base = (request.url ?? config.server.externalUrl ?? defaultUrl(config)).replace(/\/+$/, '');
  let parsed: URL;
  try {
    parsed = new URL(base);
  } catch {
    throw new ConfigError(`--url: not a URL: ${base}`);
  }
  const projects = createConfigProjectStore(config.projects);
  let goproxy: string;
  let served: readonly Project[];
  let what: string;
  if (request.project !== undefined) {
    const project = projects.findProject(request.project);
    if (!project) throw new ConfigError(`no project "${request.project}" in the config`);
    goproxy = `${base}/api/v4/projects/${project.id}/packages/go`;
    served = [project];
    what = `project ${project.fullPath}`;
  } else {
    const groups = createConfigGroupStore(
      config.groups,
      config.projects.map((p) => p.path),
      projects,
      config.modulePrefix,
    );
    const group = groups.findGroup(request.group ?? '');
    if (!group) throw new ConfigError(`no group "${request.group}": no project path starts with it and no groups entry has that id`);
    goproxy = `${base}/api/v4/groups/${encodeURIComponent(group.fullPath)}/-/packages/go`;
    served = groups.groupProjects(group);
    what = `group ${group.fullPath} (${served.length} project${served.length === 1 ? '' : 's'})`;
  }
  const roots = [...new Set(served.map((p) => moduleRootOf(p, config.modulePrefix)))].sort();
  const login = request.username ?? 'USERNAME';
  const host = parsed.hostname;
  const lines = [
    `# Go modules of ${what}, from ${base}`,
    `# Module roots: ${roots.join(', ') || '(none)'}`,
    '',
    '# 1. Fetch them through this proxy, everything else as usual; keep their paths away from sum.golang.org.',
    `go env -w GOPROXY=${goproxy},https://proxy.golang.org,direct`,
    `go env -w GONOSUMDB=${roots.join(',')}`,
    '',
    '# 2. ~/.netrc (chmod 600): a token with read_api (or a deploy token with read_package_registry).',
    '#    Go up to 1.23 matches the host alone; Go 1.24 and later match the host:port line first.',
    `machine ${host} login ${login} password TOKEN`,
    ...(parsed.port ? [`machine ${host}:${parsed.port} login ${login} password TOKEN`] : []),
    '',
    '# 3. Go 1.24 and later: GOAUTH defaults to netrc, which reads the lines above. With a GOAUTH',
    '#    command instead, print the URL line without a trailing slash:',
    `#      ${parsed.origin}`,
    '#',
    '#      Authorization: Bearer TOKEN',
    '#    Credentials written into the GOPROXY URL win over .netrc from Go 1.24 on (before, .netrc won).',
    '',
    '# Go 1.19 to 1.23 need nothing more. GOPRIVATE would skip the proxy: then go asks',
    `# https://<module>?go-get=1, and this server answers a "mod" go-import tag pointing back at it.`,
    '',
  ];
  return lines.join('\n');
}

function defaultUrl(config: ServerConfig): string {
  const host = config.server.host === '0.0.0.0' || config.server.host === '::' ? '127.0.0.1' : config.server.host;
  return `${config.server.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${config.server.port}`;
}

/** The CLI command: `client-setup --config FILE (--project X | --group X) [--url URL] [--username NAME]`. */
export async function clientSetupCommand(args: readonly string[], out: NodeJS.WritableStream): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      config: { type: 'string' },
      project: { type: 'string' },
      group: { type: 'string' },
      url: { type: 'string' },
      username: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.config === undefined) throw new ConfigError('client-setup needs --config FILE');
  const config = await loadServerConfig(values.config);
  out.write(clientSetup(config, { project: values.project, group: values.group, url: values.url, username: values.username }));
  return 0;
}
