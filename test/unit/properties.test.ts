import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import fc from 'fast-check';
import { readCredentials } from '../../middleware/auth.js';
import { createGoProxyRouter } from '../../routes/go-proxy.js';
import { InvalidRequestError, NotFoundError } from '../../src/errors.js';
import { parseProxyPath } from '../../src/service/proxy-path.js';
import { checkPath, escapePath, escapeVersion, unescapePath, unescapeVersion } from '../../src/xmod/module-path.js';
import { isPseudoVersion, pseudoVersion, pseudoVersionBase, pseudoVersionRev, pseudoVersionTime } from '../../src/xmod/pseudo-version.js';
import * as semver from '../../src/xmod/semver.js';
import { scriptedServices } from '../http/fixtures.js';

/**
 * Properties over generated inputs (fast-check), for the parsers and escapes that take client
 * input: round trips hold, Go's rules decide, and nothing but the error family ever escapes.
 * The seed is fixed so a failure reproduces; `npm run fuzz` runs the long campaign.
 */

const RUNS = { numRuns: 300, seed: 0x60_9e0 };

const lowerElem = fc.stringMatching(/^[a-z0-9][a-z0-9._~-]{0,10}$/).filter((e) => !e.endsWith('.') && !e.startsWith('.'));
const mixedElem = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._~-]{0,10}$/).filter((e) => !e.endsWith('.'));
/** Module paths Go accepts: a lower-case dotted first element, then mixed-case elements. */
const modulePath = fc
  .tuple(lowerElem, lowerElem, fc.array(mixedElem, { minLength: 1, maxLength: 4 }))
  .map(([host, tld, rest]) => [`${host}.${tld}`, ...rest].join('/'))
  .filter((p) => checkPath(p) === null);

const version = fc
  .tuple(
    fc.nat(30),
    fc.nat(30),
    fc.nat(30),
    fc.option(fc.stringMatching(/^[0-9A-Za-z-]{1,8}(\.[0-9A-Za-z-]{1,8}){0,2}$/), { nil: undefined }),
  )
  .map(([a, b, c, pre]) => `v${a}.${b}.${c}${pre ? `-${pre}` : ''}`)
  .filter((v) => semver.isValid(v));

describe('properties of module paths and versions', () => {
  test('escapePath and unescapePath are inverse on every valid module path, and the escape is lower-case', () => {
    fc.assert(
      fc.property(modulePath, (p) => {
        const escaped = escapePath(p);
        assert.equal(escaped, escaped.toLowerCase());
        assert.equal(unescapePath(escaped), p);
      }),
      RUNS,
    );
  });

  test('escapeVersion and unescapeVersion are inverse on every semantic version', () => {
    fc.assert(
      fc.property(version, (v) => {
        assert.equal(unescapeVersion(escapeVersion(v)), v);
      }),
      RUNS,
    );
  });

  test('pseudo-versions: what pseudoVersion writes, the parsers read back', () => {
    const time = fc.integer({ min: Date.UTC(1970, 0, 1) / 1000, max: Date.UTC(2999, 11, 31) / 1000 }).map((s) => new Date(s * 1000));
    const rev = fc.stringMatching(/^[0-9a-f]{12}$/);
    const older = fc.oneof(fc.constant(''), version);
    fc.assert(
      fc.property(time, rev, older, (t, r, o) => {
        const major = o === '' ? '' : semver.major(o);
        const v = pseudoVersion(major, o, t, r);
        assert.ok(isPseudoVersion(v), v);
        assert.equal(pseudoVersionRev(v), r);
        assert.equal(pseudoVersionTime(v).getTime(), t.getTime());
        assert.equal(pseudoVersionBase(v), o === '' ? '' : semver.canonical(o));
        assert.ok(semver.compare(v, o === '' ? 'v0.0.0-0' : o) > 0 || o === '', `${v} sorts after ${o}`);
      }),
      RUNS,
    );
  });
});

describe('properties of the proxy path parser', () => {
  test('every request go can make parses back to its module path and version', () => {
    const kind = fc.constantFrom('info', 'mod', 'zip', 'list', 'latest');
    fc.assert(
      fc.property(modulePath, version, kind, fc.boolean(), (p, v, k, percent) => {
        let escaped = escapePath(p);
        // go sends "!" as %21; both must parse.
        if (percent) escaped = escaped.replaceAll('!', '%21');
        const rest = k === 'latest' ? '@latest' : k === 'list' ? '@v/list' : `@v/${escapeVersion(v)}.${k}`;
        const parsed = parseProxyPath(`/${escaped}/${rest}`);
        assert.equal(parsed.kind, k);
        assert.equal(parsed.modulePath, p);
        if ('version' in parsed) assert.equal(parsed.version, v);
      }),
      RUNS,
    );
  });

  test('any string at all: a parsed request or an error of the family (400 or 404), nothing else', () => {
    const segment = fc.oneof(fc.string(), fc.constantFrom('@v', '@latest', 'list', 'v1.0.0.info', '%21', '%2F', '%ZZ', '!A', '..', ''));
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 6 }), (segments) => {
        try {
          parseProxyPath(`/${segments.join('/')}`);
        } catch (err) {
          assert.ok(err instanceof InvalidRequestError || err instanceof NotFoundError, String(err));
        }
      }),
      { ...RUNS, numRuns: 2000 },
    );
  });
});

describe('properties of the credentials parser', () => {
  const request = (headers: Record<string, string>) =>
    ({ get: (name: string) => headers[name.toLowerCase()] }) as unknown as Parameters<typeof readCredentials>[0];

  test('Basic: the password is the token, whatever the username (kept for deploy tokens); any other header never throws', () => {
    fc.assert(
      fc.property(
        fc.string().filter((u) => !u.includes(':')),
        fc.string(),
        (user, password) => {
          const header = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
          assert.deepEqual(readCredentials(request({ authorization: header })), { token: password, source: 'basic', username: user });
        },
      ),
      RUNS,
    );
    fc.assert(
      fc.property(fc.string(), fc.option(fc.string(), { nil: undefined }), (authorization, privateToken) => {
        const got = readCredentials(request({ authorization, ...(privateToken !== undefined && { 'private-token': privateToken }) }));
        assert.ok(got === null || got === 'malformed' || typeof got.token === 'string');
      }),
      { ...RUNS, numRuns: 1000 },
    );
  });
});

describe('properties of the router', () => {
  let base: string;
  let close: () => Promise<void>;

  before(async () => {
    const info = { Version: 'v1.0.0', Time: '2024-01-01T00:00:00Z' };
    const services = scriptedServices({
      list: async () => ['v1.0.0'],
      info: async () => info,
      latest: async () => info,
      goMod: async () => Buffer.from('module x\n'),
      zip: async () => {
        throw new NotFoundError('no zip here');
      },
    });
    const app = express();
    app.use(
      createGoProxyRouter({
        modulePrefix: 'gitlab.example.com',
        projects: {
          findProject: (id) =>
            id === '1' || id.toLowerCase() === 'group/project'
              ? { id: 1, fullPath: 'group/project', visibility: 'public', gitdir: '/nowhere' }
              : null,
        },
        authenticate: ({ token }) => (token === 'good' ? { scopes: ['api'] } : null),
        canRead: () => true,
        services,
      }),
    );
    app.use((_req, res) => void res.status(404).end());
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  });

  after(() => close());

  test('generated paths, methods and headers: never a 5xx, always an answer, quickly', async () => {
    const pathPart = fc.oneof(
      fc.constantFrom('api/v4/projects/1/packages/go', 'api/v4/projects/group%2Fproject/packages/go', 'api/v4/projects/%ZZ/packages/go'),
      fc.webPath(),
    );
    const tail = fc.oneof(
      fc.webPath(),
      fc.constantFrom('/gitlab.example.com/group/project/@v/list', '/x/@latest', '/x/@v/v1.0.0.info', '/-/warm', '/sumdb/x'),
    );
    const headers = fc.record(
      {
        authorization: fc.oneof(fc.string(), fc.constantFrom('Basic Z29vZA==', 'Basic Omdvb2Q=', 'Bearer good', 'Basic %%%')),
        'private-token': fc.string(),
      },
      { requiredKeys: [] },
    );
    const safeHeaders = (h: Record<string, string>): Record<string, string> =>
      Object.fromEntries(Object.entries(h).filter(([, v]) => /^[\t\x20-\x7e]*$/.test(v)));
    await fc.assert(
      fc.asyncProperty(pathPart, tail, fc.constantFrom('GET', 'HEAD', 'POST', 'OPTIONS'), headers, async (head, rest, method, h) => {
        const started = performance.now();
        let url: URL;
        try {
          url = new URL(`${base}/${head}${rest}`);
        } catch {
          return;
        }
        const res = await fetch(url, { method, headers: safeHeaders(h), signal: AbortSignal.timeout(5000) });
        await res.arrayBuffer();
        assert.ok(res.status < 500, `${method} ${url.pathname} → ${res.status}`);
        assert.ok(performance.now() - started < 2000, `${method} ${url.pathname} took too long`);
      }),
      { ...RUNS, numRuns: 400 },
    );
  });
});
