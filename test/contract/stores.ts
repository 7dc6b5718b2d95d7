import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Principal, Project, ProjectStore, TokenStore } from '../../src/service/stores.js';

/**
 * The data every implementation is built from: projects, and users with their token and the
 * projects they are members of. Each implementation under test is made from this.
 */
export interface StoreWorld {
  projects: Project[];
  users: { username: string; token: string; scopes: string[]; projectIds: number[] }[];
}

export const WORLD: StoreWorld = {
  projects: [
    { id: 42, fullPath: 'Group/Sub/Project', visibility: 'private', gitdir: '/r/a.git' },
    { id: 7, fullPath: 'group/other', visibility: 'internal', gitdir: '/r/b.git' },
    { id: 9, fullPath: 'group/open', visibility: 'public', gitdir: '/r/c.git' },
  ],
  users: [
    { username: 'alice', token: 'glpat-aliceContract0000000', scopes: ['read_api'], projectIds: [42] },
    { username: 'bob', token: 'glpat-bobContract000000000', scopes: ['api'], projectIds: [] },
  ],
};

/** What the router relies on from a host's hooks (or the config-backed ones). */
export function storesContract<P extends Principal>(
  name: string,
  make: (world: StoreWorld) => { projects: ProjectStore; tokens: TokenStore<P> },
): void {
  describe(`ProjectStore and TokenStore contract: ${name}`, () => {
    const { projects, tokens } = make(WORLD);

    test('projects are found by numeric id and by full path, case-insensitively', async () => {
      assert.equal((await projects.findProject('42'))?.id, 42);
      assert.equal((await projects.findProject('Group/Sub/Project'))?.id, 42);
      assert.equal((await projects.findProject('group/sub/project'))?.id, 42);
      assert.equal((await projects.findProject('GROUP/OTHER'))?.visibility, 'internal');
    });

    test('an unknown id or path is null, never an error', async () => {
      assert.equal(await projects.findProject('43'), null);
      assert.equal(await projects.findProject('group/missing'), null);
      assert.equal(await projects.findProject(''), null);
    });

    test('a valid token gives a principal with its scopes; an unknown or empty one gives null', async () => {
      const alice = await tokens.authenticate({ token: WORLD.users[0]!.token, source: 'basic' });
      assert.deepEqual(alice?.scopes, ['read_api']);
      assert.equal(await tokens.authenticate({ token: 'glpat-unknown0000000000000', source: 'bearer' }), null);
      assert.equal(await tokens.authenticate({ token: '', source: 'private-token' }), null);
    });

    test('canRead: members may read a private project, others may not', async () => {
      const project = (await projects.findProject('42'))!;
      const alice = (await tokens.authenticate({ token: WORLD.users[0]!.token, source: 'basic' }))!;
      const bob = (await tokens.authenticate({ token: WORLD.users[1]!.token, source: 'basic' }))!;
      assert.equal(await tokens.canRead(alice, project), true);
      assert.equal(await tokens.canRead(bob, project), false);
    });
  });
}
