import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidRequestError, NotFoundError } from '../../../src/errors.js';
import { type ProxyRequest, parseProxyPath } from '../../../src/service/proxy-path.js';

const M = 'gitlab.example.com/group/project';

const parsed: { path: string; want: ProxyRequest }[] = [
  { path: `/${M}/@v/list`, want: { kind: 'list', modulePath: M } },
  { path: `/${M}/@latest`, want: { kind: 'latest', modulePath: M } },
  { path: `/${M}/@v/v1.0.0.info`, want: { kind: 'info', modulePath: M, version: 'v1.0.0' } },
  { path: `/${M}/@v/v1.0.0.mod`, want: { kind: 'mod', modulePath: M, version: 'v1.0.0' } },
  { path: `/${M}/@v/v1.0.0.zip`, want: { kind: 'zip', modulePath: M, version: 'v1.0.0' } },
  { path: `/${M}/sub/v2/@v/v2.1.0-rc.1.info`, want: { kind: 'info', modulePath: `${M}/sub/v2`, version: 'v2.1.0-rc.1' } },
  // go percent-encodes "!" as %21; both forms decode to the upper-case letter.
  {
    path: '/github.com/%21test%21org/%21upper/@v/v1.0.0-%21r%21c1.info',
    want: { kind: 'info', modulePath: 'github.com/TestOrg/Upper', version: 'v1.0.0-RC1' },
  },
  { path: '/github.com/!test!org/!upper/@v/list', want: { kind: 'list', modulePath: 'github.com/TestOrg/Upper' } },
  // "+" is never a space.
  { path: `/${M}/@v/v2.0.0+incompatible.info`, want: { kind: 'info', modulePath: M, version: 'v2.0.0+incompatible' } },
  { path: `/${M}/@v/v1.3.0%2Bmeta.info`, want: { kind: 'info', modulePath: M, version: 'v1.3.0+meta' } },
  { path: `/${M}/@v/main.info`, want: { kind: 'info', modulePath: M, version: 'main' } },
  { path: `/${M}/@v/feat~x.info`, want: { kind: 'info', modulePath: M, version: 'feat~x' } },
  { path: `/${M}/@v/a%25b.info`, want: { kind: 'info', modulePath: M, version: 'a%b' } },
  // The version file name may itself contain dots: only the last suffix counts.
  { path: `/${M}/@v/v1.0.0.zip.info`, want: { kind: 'info', modulePath: M, version: 'v1.0.0.zip' } },
];

for (const { path, want } of parsed) {
  test(`parseProxyPath(${path})`, () => assert.deepEqual(parseProxyPath(path), want));
}

const invalid = [
  `/gitlab.example.com/%ZZ/@v/list`, // malformed percent-encoding
  `/gitlab.example.com/Group/project/@v/list`, // bare upper-case letter
  `/gitlab.example.com/group/project!/@v/list`, // trailing "!"
  `/gitlab.example.com/group/!1/@v/list`, // "!" before a non-letter
  `/${M}/@v/v1.0.0-!.info`,
  `/${M}/@v/V1.0.0.info`,
  `/gitlab.example.com%2Fgroup/project/@v/list`, // an encoded slash
  '/@v/list', // no module path
  '/gitlab.example.com/group/../x/@v/list',
];

for (const path of invalid) {
  test(`parseProxyPath(${path}) is InvalidRequestError`, () => assert.throws(() => parseProxyPath(path), InvalidRequestError));
}

const notFound = [
  '/sumdb/sum.golang.org/supported',
  '/sumdb/sum.golang.org/lookup/gitlab.example.com/group/project@v1.0.0',
  `/${M}`,
  `/${M}/@v/`,
  `/${M}/@v/v1.0.0.tar`,
  `/${M}/@v/list/extra`,
  `/${M}/@latest/x`,
  `/${M}/@w/list`,
];

for (const path of notFound) {
  test(`parseProxyPath(${path}) is NotFoundError`, () => assert.throws(() => parseProxyPath(path), NotFoundError));
}
