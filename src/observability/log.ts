import { pino } from 'pino';
import type { Logger } from '../logger.js';

/**
 * The standalone server's logger: pino, one JSON object per line (`json`), or the same entries as
 * `time LEVEL message {fields}` for a terminal (`pretty`). Request lines never carry headers, but
 * anything that ever logs a request or its headers gets the credentials replaced.
 */

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Header names (lower case, as Node gives them) and fields that carry credentials. */
const SECRET_HEADERS = ['authorization', 'private-token', 'job-token', 'deploy-token', 'cookie'];
export const REDACTED_PATHS: readonly string[] = [
  ...SECRET_HEADERS.flatMap((h) => [`req.headers["${h}"]`, `headers["${h}"]`]),
  'token',
  'password',
  '*.token',
  '*.password',
];

export interface PinoLoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Where lines go; defaults to stderr. */
  stream?: NodeJS.WritableStream;
}

export function createPinoLogger({ level, format, stream = process.stderr }: PinoLoggerOptions): Logger {
  // stderr through sonic-boom, asynchronously: writes that pile up while one is in flight go out
  // together, so a busy server makes one syscall per batch instead of one per request line. The
  // lines still pending when the process ends normally are written before it exits.
  const destination =
    format === 'pretty' ? prettyDestination(stream) : stream === process.stderr ? pino.destination({ dest: 2, sync: false }) : stream;
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...REDACTED_PATHS], censor: '[REDACTED]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** Turns pino's JSON lines into `time LEVEL message {fields}`: the format the CLI has always printed. */
function prettyDestination(stream: NodeJS.WritableStream): { write(line: string): void } {
  return {
    write(line) {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        stream.write(line);
        return;
      }
      const { time, level, msg, pid: _pid, ...fields } = entry;
      const rest = Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
      stream.write(`${String(time)} ${String(level).toUpperCase()} ${String(msg ?? '')}${rest}\n`);
    },
  };
}
