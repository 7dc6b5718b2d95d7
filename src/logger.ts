/** A pino-compatible logger: `log.info({ op, kind }, 'message')` or `log.info('message')`. */
export type LogFn = (objOrMsg: unknown, msg?: string) => void;

export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  /** Pino's `child(bindings)`: when present, each request logs through a child carrying its request id. */
  child?(bindings: Record<string, unknown>): Logger;
}

const noop: LogFn = () => {};

/** The default: says nothing. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
