/**
 * The domain's error family. Messages are written to be safe to show a client (no tokens, no
 * filesystem paths); the underlying cause, when there is one, stays in `cause` for the log.
 * Only middleware/error-handler.ts maps kinds to HTTP statuses.
 */
export type ErrorKind = 'not-found' | 'invalid' | 'unauthenticated' | 'forbidden' | 'config' | 'internal';

export class ProxyError extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
    this.name = new.target.name;
  }
}

/** Anything direct mode reports as "not found", "unknown revision", "invalid version", … (404). */
export class NotFoundError extends ProxyError {
  constructor(message: string, options?: ErrorOptions) {
    super('not-found', message, options);
  }
}

/** A request that can never be valid (bad escaping, malformed path). */
export class InvalidRequestError extends ProxyError {
  constructor(message: string, options?: ErrorOptions) {
    super('invalid', message, options);
  }
}

/** No credentials presented for a project that needs them (401 + WWW-Authenticate). */
export class UnauthenticatedError extends ProxyError {
  constructor(message = '401 Unauthorized', options?: ErrorOptions) {
    super('unauthenticated', message, options);
  }
}

/** Bad configuration or bad router options; thrown at startup, never per request. */
export class ConfigError extends ProxyError {
  constructor(message: string, options?: ErrorOptions) {
    super('config', message, options);
  }
}

/** A corrupt repository or a bug: 500, with a generic body. */
export class InternalError extends ProxyError {
  constructor(message: string, options?: ErrorOptions) {
    super('internal', message, options);
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ProxyError && err.kind === 'not-found';
}
