import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ArchiveAttributeError,
  ConfigError,
  ConflictError,
  errorLogFields,
  ForbiddenError,
  InternalError,
  InvalidRequestError,
  isAbort,
  NotFoundError,
  type ProxyError,
  toProxyError,
  UnauthenticatedError,
  UnknownRevisionError,
  UnsupportedWorkingTreeEncodingError,
} from '../../src/errors.js';
import { EscapeError, InvalidVersionError } from '../../src/xmod/module-path.js';

test('every class has a stable code and kind, and keeps its op', () => {
  const cases: [ProxyError, string, string][] = [
    [new NotFoundError('x'), 'NotFoundError', 'not-found'],
    [new UnknownRevisionError('v9'), 'UnknownRevisionError', 'not-found'],
    [new ArchiveAttributeError('a.t', 'x'), 'ArchiveAttributeError', 'not-found'],
    [new InvalidRequestError('x'), 'InvalidRequestError', 'invalid'],
    [new UnauthenticatedError(), 'UnauthenticatedError', 'unauthenticated'],
    [new ForbiddenError('x'), 'ForbiddenError', 'forbidden'],
    [new ConflictError('x'), 'ConflictError', 'conflict'],
    [new ConfigError('x'), 'ConfigError', 'config'],
    [new InternalError('x'), 'InternalError', 'internal'],
    [new UnsupportedWorkingTreeEncodingError('x'), 'UnsupportedWorkingTreeEncodingError', 'internal'],
  ];
  for (const [err, code, kind] of cases) {
    assert.equal(err.code, code);
    assert.equal(err.name, code);
    assert.equal(err.kind, kind);
    assert.equal(err.op, undefined);
  }
  assert.equal(new NotFoundError('x', { op: 'list' }).op, 'list');
  assert.equal(new UnknownRevisionError('v9').message, 'unknown revision v9');
});

test("toProxyError: family members pass through, Go errors keep Go's message, anything else is internal", () => {
  const own = new NotFoundError('gone');
  assert.equal(toProxyError(own, { as: 'invalid' }), own);

  const go = new InvalidVersionError('v1.x', 'not a semantic version');
  const notFound = toProxyError(go, { as: 'not-found', op: 'info' });
  assert.ok(notFound instanceof NotFoundError);
  assert.equal(notFound.message, go.message);
  assert.equal(notFound.op, 'info');
  assert.equal(notFound.cause, go);

  const bad = toProxyError(new EscapeError('invalid escaped module path "A"'), { as: 'invalid', prefix: 'bad request: ' });
  assert.ok(bad instanceof InvalidRequestError);
  assert.equal(bad.message, 'bad request: invalid escaped module path "A"');

  const leaky = Object.assign(new Error("ENOENT: no such file, open '/srv/secret/repo.git/HEAD'"), { code: 'ENOENT' });
  const internal = toProxyError(leaky, { as: 'not-found', op: 'zip' });
  assert.ok(internal instanceof InternalError);
  assert.equal(internal.message, 'internal error');
  assert.doesNotMatch(internal.message, /secret/);
  assert.equal(internal.cause, leaky);
});

test('errorLogFields: kind, code, op and the first Node error code in the cause chain; never a message', () => {
  const leaky = Object.assign(new Error('/srv/secret'), { code: 'EACCES' });
  const fields = errorLogFields(new InternalError('zip cache write failed', { op: 'zip-cache', cause: leaky }));
  assert.deepEqual(fields, { kind: 'internal', code: 'InternalError', op: 'zip-cache', errno: 'EACCES' });
  assert.deepEqual(errorLogFields(new TypeError('x')), { kind: 'unknown', code: 'TypeError' });
  assert.doesNotMatch(JSON.stringify(errorLogFields(leaky)), /secret/);
});

test('isAbort: aborted signals and streams, not other failures', () => {
  const controller = new AbortController();
  controller.abort();
  assert.equal(isAbort(controller.signal.reason), true);
  assert.equal(isAbort(new DOMException('gone', 'AbortError')), true);
  assert.equal(isAbort(new InternalError('x')), false);
  assert.equal(isAbort(Object.assign(new Error('reset'), { code: 'ECONNRESET' })), false);
});
