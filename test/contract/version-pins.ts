import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ResolvedVersion } from '../../src/modfetch/code-repo.js';
import type { VersionPins } from '../../src/service/version-pins.js';

/** What a VersionPins implementation makes: a store, and (if it persists) a fresh one over the same data. */
export interface PinsFixture {
  pins: VersionPins;
  reopen?: () => Promise<VersionPins>;
}

const resolved = (commit: string, time = 1_700_000_000): ResolvedVersion =>
  ({ version: 'v1.0.0', commit: commit.repeat(40).slice(0, 40), time }) as ResolvedVersion;

/** The promises every VersionPins makes (go: "a version, once served, must always serve the same content"). */
export function versionPinsContract(name: string, make: () => Promise<PinsFixture>, { persistent }: { persistent: boolean }): void {
  describe(`VersionPins contract: ${name}`, () => {
    test('an unpinned version is null', async () => {
      const { pins } = await make();
      assert.equal(await pins.get('example.com/m', 'v1.0.0'), null);
    });

    test('a pin reads back as set', async () => {
      const { pins } = await make();
      await pins.set('example.com/m', 'v1.0.0', resolved('a'));
      assert.deepEqual(await pins.get('example.com/m', 'v1.0.0'), resolved('a'));
    });

    test('the first pin wins: a later set for the same version changes nothing', async () => {
      const { pins } = await make();
      await pins.set('example.com/m', 'v1.0.0', resolved('a'));
      await pins.set('example.com/m', 'v1.0.0', resolved('b'));
      assert.deepEqual(await pins.get('example.com/m', 'v1.0.0'), resolved('a'));
    });

    test('concurrent sets for one version agree on one commit', async () => {
      const { pins } = await make();
      await Promise.all(['c', 'd', 'e'].map((c) => pins.set('example.com/race', 'v1.0.0', resolved(c))));
      const got = await pins.get('example.com/race', 'v1.0.0');
      assert.ok(got && ['c', 'd', 'e'].some((c) => got.commit === c.repeat(40)));
      await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(await pins.get('example.com/race', 'v1.0.0'), got);
    });

    test('modules and versions are pinned apart', async () => {
      const { pins } = await make();
      await pins.set('example.com/m', 'v1.0.0', resolved('a'));
      assert.equal(await pins.get('example.com/m', 'v1.0.1'), null);
      assert.equal(await pins.get('example.com/m/v2', 'v1.0.0'), null);
      assert.equal(await pins.get('example.com/M', 'v1.0.0'), null);
    });

    if (persistent) {
      test('pins persist: a fresh instance over the same data has them', async () => {
        const fixture = await make();
        assert.ok(fixture.reopen, 'a persistent store says how to open it again');
        await fixture.pins.set('example.com/m', 'v1.0.0', resolved('f'));
        assert.deepEqual(await (await fixture.reopen()).get('example.com/m', 'v1.0.0'), resolved('f'));
      });

      test('a fresh instance over existing data pins new versions too, and they persist', async () => {
        const fixture = await make();
        assert.ok(fixture.reopen);
        await fixture.pins.set('example.com/m', 'v1.0.0', resolved('a'));
        // After a restart the store's folders already exist: pinning must still work.
        await (await fixture.reopen()).set('example.com/m', 'v1.1.0', resolved('b'));
        const third = await fixture.reopen();
        assert.deepEqual(await third.get('example.com/m', 'v1.0.0'), resolved('a'));
        assert.deepEqual(await third.get('example.com/m', 'v1.1.0'), resolved('b'));
      });
    }
  });
}
