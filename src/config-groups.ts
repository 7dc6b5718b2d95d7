import type { GroupConfig } from './config.js';
import type { ConfigProjectStore } from './config-stores.js';
import type { Group, GroupStore, ModuleRootStore } from './service/group-stores.js';
import { hasPathPrefix, moduleRootOf } from './service/module-roots.js';
import type { Project } from './service/stores.js';

/**
 * Groups and module roots over the config file's projects. A group is any leading part of a
 * project's full path ("acme" and "acme/platform" for "acme/platform/lib"); `groups` only gives
 * some of them numeric ids.
 */

export interface ConfigGroupStore extends GroupStore, ModuleRootStore {
  findGroup(idOrFullPath: string): Group | null;
  groupProjects(group: Group): readonly Project[];
  projectsForModule(modulePath: string): readonly Project[];
}

export function createConfigGroupStore(
  groups: readonly GroupConfig[],
  projectPaths: readonly string[],
  projects: ConfigProjectStore,
  modulePrefix: string,
): ConfigGroupStore {
  const all = projectPaths.map((path) => projects.findProject(path)).filter((p): p is Project => p !== null);
  const known = new Map<string, Group>();
  for (const project of all) {
    const segments = project.fullPath.split('/');
    for (let n = 1; n < segments.length; n++) {
      const fullPath = segments.slice(0, n).join('/');
      known.set(fullPath.toLowerCase(), { fullPath });
    }
  }
  const byId = new Map<string, Group>();
  for (const group of groups) {
    const entry: Group = { id: group.id, fullPath: known.get(group.path.toLowerCase())?.fullPath ?? group.path };
    byId.set(String(group.id), entry);
    known.set(group.path.toLowerCase(), entry);
  }
  return {
    findGroup(idOrFullPath) {
      if (/^\d+$/.test(idOrFullPath)) return byId.get(String(Number(idOrFullPath))) ?? null;
      return known.get(idOrFullPath.toLowerCase()) ?? null;
    },
    groupProjects(group) {
      const prefix = `${group.fullPath.toLowerCase()}/`;
      return all.filter((project) => project.fullPath.toLowerCase().startsWith(prefix));
    },
    projectsForModule(modulePath) {
      return all.filter((project) => hasPathPrefix(modulePath, moduleRootOf(project, modulePrefix)));
    },
  };
}
