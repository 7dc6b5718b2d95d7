import { createHash } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostHooks } from '../../examples/mount.js';
import { parseServerConfig } from '../../src/config.js';
import { createConfigProjectStore, createConfigTokenStore, tokenSha256 } from '../../src/config-stores.js';
import { createDiskPins, createMemoryPins } from '../../src/service/version-pins.js';
import { storesContract } from '../contract/stores.js';
import { versionPinsContract } from '../contract/version-pins.js';

/** One contract suite per pluggable store, run against every implementation (as athens does for its storage backends). */

versionPinsContract('memory', async () => ({ pins: createMemoryPins() }), { persistent: false });
versionPinsContract(
  'disk',
  async () => {
    // A cache folder that does not exist yet: the store makes it on first use.
    const dir = join(await mkdtemp(join(tmpdir(), 'pins-contract-')), 'not-yet', 'cache');
    return { pins: createDiskPins(dir, 'scope'), reopen: async () => createDiskPins(dir, 'scope') };
  },
  { persistent: true },
);

storesContract('config file', (world) => {
  const config = parseServerConfig(
    {
      modulePrefix: 'gitlab.example.com',
      projects: world.projects.map((p) => ({ id: p.id, path: p.fullPath, repository: p.gitdir, visibility: p.visibility })),
      users: world.users.map((u) => ({
        username: u.username,
        projects: u.projectIds,
        tokens: [{ sha256: tokenSha256(u.token), scopes: u.scopes }],
      })),
    },
    { file: 'contract', baseDir: '/' },
  );
  return { projects: createConfigProjectStore(config.projects), tokens: createConfigTokenStore(config.users) };
});

storesContract('examples/mount.ts (a host app database)', (world) => {
  const hooks = hostHooks({
    projects: world.projects,
    users: world.users.map((u) => ({
      username: u.username,
      tokenSha256: createHash('sha256').update(u.token).digest('hex'),
      scopes: u.scopes,
      projectIds: u.projectIds,
    })),
  });
  return { projects: hooks.projects, tokens: { authenticate: hooks.authenticate, canRead: hooks.canRead } };
});
