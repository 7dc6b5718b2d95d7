import fc from 'fast-check';

/** Generators of what clients send a Go proxy, shared by the property tests and `npm run fuzz`. */

/** A path under a project endpoint: real GOPROXY requests, near misses and junk. */
export function proxyTail(modules: readonly string[]): fc.Arbitrary<string> {
  const module = fc.constantFrom(...modules);
  const version = fc.oneof(
    fc.constantFrom(
      'v1.0.0',
      'v1.1.0',
      'v1.2.0-rc.1',
      'v9.9.9',
      'main',
      'HEAD',
      'v1.0.0+incompatible',
      'v0.0.0-20240101000000-000000000000',
    ),
    fc.stringMatching(/^[0-9a-f]{4,40}$/),
    fc.string({ maxLength: 20 }),
  );
  return fc.oneof(
    module.map((m) => `/${m}/@v/list`),
    module.map((m) => `/${m}/@latest`),
    fc.tuple(module, version, fc.constantFrom('info', 'mod', 'zip')).map(([m, v, k]) => `/${m}/@v/${v}.${k}`),
    fc.tuple(module, fc.webPath()).map(([m, p]) => `/${m}${p}`),
    fc.constantFrom('/-/warm', '/sumdb/sum.golang.org/supported', '/%ZZ/@v/list', '/x/%2F/@v/list', '/!!/@latest'),
    fc.webPath(),
  );
}

/** Authorization / PRIVATE-TOKEN headers: the valid `tokens`, broken forms, and noise (visible ASCII only, as HTTP allows). */
export function credentialHeaders(tokens: readonly string[]): fc.Arbitrary<Record<string, string>> {
  const token = fc.oneof(fc.constantFrom(...tokens), fc.stringMatching(/^[\x21-\x7e]{0,40}$/));
  return fc.oneof(
    fc.constant({}),
    token.map((t) => ({ authorization: `Basic ${Buffer.from(`user:${t}`).toString('base64')}` })),
    token.map((t) => ({ authorization: `Bearer ${t}` })),
    token.map((t) => ({ 'private-token': t })),
    fc.stringMatching(/^[\x20-\x7e]{0,60}$/).map((a) => ({ authorization: a })),
  );
}
