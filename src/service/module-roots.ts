/** What a module root is made of (a ServedProject or a Project has both). */
interface Rooted {
  fullPath: string;
  modulePath?: string | undefined;
}

/**
 * Module roots: which project serves a module path. A project's root is its `modulePath` (a
 * vanity path) or `<modulePrefix>/<fullPath>`; a module lives in the project whose root is the
 * longest prefix of its path at a slash, or, for gopkg.in-style roots, the whole path
 * (`gopkg.in/yaml.v3` is a root of `gopkg.in/yaml.v3` only, never of `gopkg.in/yaml.v3x`).
 */

/** The module path of the project's repository root. */
export function moduleRootOf(project: Rooted, modulePrefix: string): string {
  return project.modulePath ?? `${modulePrefix}/${project.fullPath}`;
}

/** Whether `root` is `modulePath` or one of its leading path elements (Go's `str.HasPathPrefix`). */
export function hasPathPrefix(modulePath: string, root: string): boolean {
  return modulePath === root || (modulePath.startsWith(root) && modulePath.charCodeAt(root.length) === 0x2f);
}

/**
 * Of `projects`, the one whose module root is the longest path prefix of `modulePath`, or null.
 * Ties (two projects with the same root) go to the first one listed, so a caller that orders
 * projects gets a stable answer.
 */
export function longestRoot<T extends Rooted>(projects: readonly T[], modulePath: string, modulePrefix: string): T | null {
  let best: T | null = null;
  let bestLength = -1;
  for (const project of projects) {
    const root = moduleRootOf(project, modulePrefix);
    if (root.length > bestLength && hasPathPrefix(modulePath, root)) {
      best = project;
      bestLength = root.length;
    }
  }
  return best;
}
