import type { z } from 'zod';
import { ConfigError } from '../errors.js';

/**
 * Checks `raw` against a schema and returns the parsed value, or throws one ConfigError with a
 * line per problem, each naming `where` (a file, or the factory whose options they are) and the key.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, raw: unknown, where: string): z.output<S> {
  const result = schema.safeParse(raw);
  if (!result.success) throw new ConfigError(formatIssues(where, result.error));
  return result.data;
}

function formatIssues(where: string, error: z.ZodError): string {
  const lines = error.issues.map((issue) => {
    const at = formatPath(issue.path);
    return at ? `${where}: ${at}: ${issue.message}` : `${where}: ${issue.message}`;
  });
  return lines.join('\n');
}

function formatPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${String(segment)}` : String(segment);
  }
  return out;
}
