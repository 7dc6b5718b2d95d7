import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError } from '../errors.js';

/**
 * Where a mirrored project's repository lives upstream, and how to read it. The config file names
 * the password by an environment variable or a file, never by value, so the file itself can be
 * shared; a mounting host hands the password (or a function that fetches it) through the project hook.
 */

/** Defaults of the mirror settings, stated once. */
export const MIRROR_DEFAULTS = {
  /** A mirror older than this is refreshed before `list`, `@latest` and branch or hash queries. */
  refreshSeconds: 300,
  /** How long a request waits for a refresh before answering from what the mirror has. */
  waitMs: 5_000,
  /** The background scheduler looks at every mirror this often (each is refreshed once older than its refreshSeconds). */
  intervalSeconds: 60,
  /** A fetch is refused while the mirror's disk has less free space than this. */
  minFreeBytes: 256 * 1024 * 1024,
  /** A connection to the upstream that sends nothing for this long is cut. */
  idleTimeoutMs: 30_000,
} as const;

/** An upstream as the mirror uses it: the password is read when a fetch needs it (a rotated secret is picked up). */
export interface Upstream {
  /** `https://host/group/project.git` (or `http://`); no credentials in it. */
  url: string;
  /** Sent as the basic-auth user name; hosts mostly ignore it for tokens (GitLab: any, GitHub: `x-access-token`). */
  username?: string;
  /** The password or token; a function is called for each fetch. */
  password?: string | (() => string | undefined | Promise<string | undefined>);
  /** See {@link MIRROR_DEFAULTS.refreshSeconds}. */
  refreshSeconds?: number;
}

const UpstreamUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//i.test(u), 'expected an http:// or https:// URL (smart HTTP)')
  .refine((u) => {
    const url = new URL(u);
    return url.username === '' && url.password === '';
  }, 'credentials do not belong in the URL: use username and passwordEnv or passwordFile');

/** `projects[].upstream` in the config file. */
export const UpstreamConfigSchema = z
  .strictObject({
    url: UpstreamUrl,
    username: z.string().min(1).optional(),
    /** The environment variable holding the password or token. */
    passwordEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name')
      .optional(),
    /** A file holding the password or token (relative to the config file); read for each fetch. */
    passwordFile: z.string().min(1).optional(),
    refreshSeconds: z.number().int().positive().optional(),
  })
  .refine((u) => !(u.passwordEnv && u.passwordFile), { message: 'name the password by passwordEnv or passwordFile, not both' });
export type UpstreamConfig = z.output<typeof UpstreamConfigSchema>;

/** A webhook secret: by environment variable or file, never in the config file itself. */
const SecretSchema = z
  .strictObject({
    secretEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name')
      .optional(),
    secretFile: z.string().min(1).optional(),
  })
  .refine((s) => (s.secretEnv === undefined) !== (s.secretFile === undefined), {
    message: 'name the secret by secretEnv or secretFile (one of them)',
  });
export type SecretConfig = z.output<typeof SecretSchema>;

/** The config file's `mirrors` section: how mirrors are kept fresh, and the push webhooks' secrets. */
export const MirrorsConfigSchema = z.strictObject({
  /** See {@link MIRROR_DEFAULTS}. */
  intervalSeconds: z.number().positive().optional(),
  waitMs: z.number().int().nonnegative().optional(),
  minFreeBytes: z.number().int().nonnegative().optional(),
  idleTimeoutMs: z.number().int().positive().optional(),
  webhooks: z
    .strictObject({
      gitlab: SecretSchema.optional(),
      github: SecretSchema.optional(),
      gitea: SecretSchema.optional(),
    })
    .optional(),
});
export type MirrorsConfig = z.output<typeof MirrorsConfigSchema>;

/** Reads a secret named by env var or file at the moment it is needed; never logs or returns where it failed beyond the key. */
export function secretReader(source: { env?: string; file?: string }, key: string): () => Promise<string | undefined> {
  return async () => {
    if (source.env !== undefined) return process.env[source.env];
    if (source.file !== undefined) {
      try {
        return (await readFile(source.file, 'utf8')).trim();
      } catch (err) {
        throw new ConfigError(`${key}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
          cause: err,
          op: 'mirror',
        });
      }
    }
    return undefined;
  };
}

/** The config file's upstream as the mirror uses it; `resolve` makes a relative passwordFile absolute. */
export function upstreamFromConfig(config: UpstreamConfig, resolve: (p: string) => string, key: string): Upstream {
  const password =
    config.passwordEnv !== undefined || config.passwordFile !== undefined
      ? secretReader(
          {
            ...(config.passwordEnv !== undefined && { env: config.passwordEnv }),
            ...(config.passwordFile !== undefined && { file: resolve(config.passwordFile) }),
          },
          `${key}.passwordFile`,
        )
      : undefined;
  return {
    url: config.url,
    ...(config.username !== undefined && { username: config.username }),
    ...(password && { password }),
    ...(config.refreshSeconds !== undefined && { refreshSeconds: config.refreshSeconds }),
  };
}

/** The upstream's host, the only part of it that goes into a log line (a path may name a private project). */
export function upstreamHost(upstream: Upstream): string {
  try {
    return new URL(upstream.url).host;
  } catch {
    return 'invalid-url';
  }
}
