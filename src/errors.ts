import { GoModParseError } from './xmod/modfile.js';
import { EscapeError, InvalidPathError, InvalidVersionError, ModuleError } from './xmod/module-path.js';

/**
 * The domain's error family. Messages are written to be safe to show a client (no tokens, no
 * filesystem paths); the underlying cause, when there is one, stays in `cause` for the log.
 * Each class has a stable `code` (its name, as isomorphic-git's errors do) for callers and tests;
 * `kind` is what middleware/error-handler.ts, the only place that knows statuses, maps to one;
 * `op` names the operation that raised it, for the log line.
 */
export type ErrorKind = 'not-found' | 'invalid' | 'unauthenticated' | 'forbidden' | 'conflict' | 'config' | 'internal';

export type ErrorCode =
  | 'NotFoundError'
  | 'UnknownRevisionError'
  | 'InvalidRequestError'
  | 'UnauthenticatedError'
  | 'ForbiddenError'
  | 'ConflictError'
  | 'ConfigError'
  | 'InternalError'
  | 'BrokenRepositoryError'
  | 'ArchiveAttributeError'
  | 'UnsupportedWorkingTreeEncodingError';

export interface ProxyErrorOptions extends ErrorOptions {
  /** The operation that raised it: `list`, `zip`, `git.read`, `auth`, … */
  op?: string;
}

export abstract class ProxyError extends Error {
  abstract readonly kind: ErrorKind;
  abstract readonly code: ErrorCode;
  readonly op: string | undefined;
  constructor(message: string, options: ProxyErrorOptions = {}) {
    const { op, ...rest } = options;
    super(message, rest);
    this.op = op;
    this.name = new.target.name;
  }
}

/** Anything direct mode reports as "not found", "unknown revision", "invalid version", … (404). */
export class NotFoundError extends ProxyError {
  readonly kind = 'not-found';
  readonly code: ErrorCode = 'NotFoundError';
}

/** A revision (tag, branch, hash prefix) the repository does not have. */
export class UnknownRevisionError extends NotFoundError {
  override readonly code = 'UnknownRevisionError';
  readonly rev: string;
  constructor(rev: string, options?: ProxyErrorOptions) {
    super(`unknown revision ${rev}`, options);
    this.rev = rev;
  }
}

/**
 * git archive would die on this file (e.g. `working-tree-encoding` set without a value: "true/
 * false are no valid working-tree-encodings"), so direct mode cannot produce this zip at all:
 * the version is refused with git's reason, as a zip Go's rules refuse is.
 */
export class ArchiveAttributeError extends NotFoundError {
  override readonly code = 'ArchiveAttributeError';
  readonly path: string;
  constructor(path: string, message: string, options?: ProxyErrorOptions) {
    super(message, options);
    this.path = path;
  }
}

/** A request that can never be valid (bad escaping, malformed proxy path): 400. */
export class InvalidRequestError extends ProxyError {
  readonly kind = 'invalid';
  readonly code = 'InvalidRequestError';
}

/** No credentials presented for a project that needs them (401 + WWW-Authenticate). */
export class UnauthenticatedError extends ProxyError {
  readonly kind = 'unauthenticated';
  readonly code = 'UnauthenticatedError';
  constructor(message = '401 Unauthorized', options?: ProxyErrorOptions) {
    super(message, options);
  }
}

/**
 * Credentials that fail (unknown, expired, revoked, wrong scope, no access). The message is for
 * the log only: every refusal answers exactly like an unknown project, so nothing leaks.
 */
export class ForbiddenError extends ProxyError {
  readonly kind = 'forbidden';
  readonly code = 'ForbiddenError';
}

/** A request this server's setup cannot serve (e.g. warming without a disk cache): 409 with the reason. */
export class ConflictError extends ProxyError {
  readonly kind = 'conflict';
  readonly code = 'ConflictError';
}

/** Bad configuration or bad options; thrown at startup or by a factory, never per request. */
export class ConfigError extends ProxyError {
  readonly kind = 'config';
  readonly code = 'ConfigError';
}

/** A corrupt repository or a bug: 500, with a generic body. */
export class InternalError extends ProxyError {
  readonly kind = 'internal';
  readonly code: ErrorCode = 'InternalError';
}

/**
 * The repository cannot be read: an object a ref or a tree names is missing, a pack or its index
 * is corrupt, the repository vanished while served. A 500 with a fixed one-line reason, never a
 * 404 (go would fall through to the next GOPROXY entry, telling it the private module's path);
 * `reason` is for the log, and no message of this class holds an object id or a path.
 */
export class BrokenRepositoryError extends InternalError {
  override readonly code = 'BrokenRepositoryError';
  readonly reason: 'missing-object' | 'corrupt-index' | 'vanished';
  constructor(reason: BrokenRepositoryError['reason'], options?: ProxyErrorOptions) {
    super(BROKEN_REPOSITORY, options);
    this.reason = reason;
  }
}

/** The body of every BrokenRepositoryError answer. */
export const BROKEN_REPOSITORY = 'repository cannot be read';

/** A working-tree-encoding this proxy cannot reproduce byte for byte: our limit, so a 500. */
export class UnsupportedWorkingTreeEncodingError extends InternalError {
  override readonly code = 'UnsupportedWorkingTreeEncodingError';
  readonly encoding: string;
  constructor(encoding: string, options?: ProxyErrorOptions) {
    super(`working-tree-encoding "${encoding}" is not supported`, options);
    this.encoding = encoding;
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ProxyError && err.kind === 'not-found';
}

/** True for an error raised because a client went away (an aborted signal or stream). */
export function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || (err as NodeJS.ErrnoException).code === 'ABORT_ERR');
}

/** Errors of the x/mod ports, whose messages are Go's own and quote only the client's input. */
function isGoError(err: unknown): err is Error {
  return (
    err instanceof InvalidVersionError ||
    err instanceof ModuleError ||
    err instanceof InvalidPathError ||
    err instanceof EscapeError ||
    err instanceof GoModParseError
  );
}

export interface TranslateOptions {
  /** What a Go-port error becomes: `not-found` (Go refuses the module or version) or `invalid` (a bad request). */
  as: 'not-found' | 'invalid';
  /** Put before Go's message, e.g. "bad request: ". */
  prefix?: string;
  op?: string;
}

/**
 * The one place where errors from outside the family join it: a ProxyError passes through, a
 * Go-port error keeps Go's message (so `go` prints the same reason), and anything else (a bug, a
 * Node error whose message may hold a path) becomes an InternalError with the original as cause.
 */
export function toProxyError(err: unknown, { as, prefix = '', op }: TranslateOptions): ProxyError {
  if (err instanceof ProxyError) return err;
  const options = { cause: err, ...(op !== undefined && { op }) };
  if (isGoError(err)) {
    const message = `${prefix}${err.message}`;
    return as === 'invalid' ? new InvalidRequestError(message, options) : new NotFoundError(message, options);
  }
  return new InternalError('internal error', options);
}

/** What a log line says of an error: its kind, code and operation, and a Node error code from its cause chain; never a message. */
export interface ErrorLogFields {
  kind: ErrorKind | 'unknown';
  code: string;
  op?: string;
  /** ENOENT, ECONNRESET, ERR_STREAM_PREMATURE_CLOSE, …: says what broke without saying where. */
  errno?: string;
}

export function errorLogFields(err: unknown): ErrorLogFields {
  const fields: ErrorLogFields =
    err instanceof ProxyError
      ? { kind: err.kind, code: err.code, ...(err.op !== undefined && { op: err.op }) }
      : { kind: 'unknown', code: err instanceof Error ? err.name : typeof err };
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof ProxyError) continue;
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string') {
      fields.errno = code;
      break;
    }
  }
  return fields;
}
