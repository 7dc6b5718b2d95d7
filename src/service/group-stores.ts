import type { Project } from './stores.js';

/** The hook contract of the group endpoint and of `?go-get=1` discovery. */

/** A group as the proxy sees it. */
export interface Group {
  id?: number | string;
  /** Full path, e.g. "group/sub". */
  fullPath: string;
}

/** Finds groups for `/api/v4/groups/:id` and the projects under them. */
export interface GroupStore {
  /** The group with this numeric id ("7") or full path ("group/sub"), or null. Paths match case-insensitively. */
  findGroup(idOrFullPath: string): Group | null | Promise<Group | null>;
  /** Every project of the group and of its subgroups, at any depth. */
  groupProjects(group: Group): readonly Project[] | Promise<readonly Project[]>;
}

/** Finds the projects that may hold a module, for `?go-get=1` discovery. */
export interface ModuleRootStore {
  /**
   * Projects whose module root is `modulePath` or a leading part of it (more are fine: the
   * longest root the caller may read wins). Visibility is checked by the caller.
   */
  projectsForModule(modulePath: string): readonly Project[] | Promise<readonly Project[]>;
}
