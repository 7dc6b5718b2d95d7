import { ConflictError, ForbiddenError, isNotFound, UnauthenticatedError } from '../src/errors.js';
import type { MirrorKeeper } from '../src/mirror/mirror-keeper.js';
import type { ProjectServices, ServedProject, ServiceLease } from '../src/service/project-services.js';
import type { ProxyRequest } from '../src/service/proxy-path.js';
import type { Principal } from '../src/service/stores.js';
import { canonical, isValid } from '../src/xmod/semver.js';

/** A version a request names exactly (a tag or pseudo-version), as opposed to a query (branch, hash, `v1`). */
function isCanonical(version: string): boolean {
  return isValid(version) && canonical(version) === version;
}

/**
 * Leases a project's service, refreshing its mirror first when the request asks what is new:
 * `list`, `@latest` and queries (branch, hash) refresh a mirror older than its refreshSeconds
 * (bounded wait); a canonical version is answered from the mirror at once, and only when the
 * mirror does not have it is it refreshed once (bounded wait) before the answer (a 404 then).
 * Versions already served are pinned, so they never wait for the network.
 */
export async function acquireFresh(
  services: ProjectServices,
  mirrors: MirrorKeeper,
  project: ServedProject,
  request: ProxyRequest,
): Promise<ServiceLease> {
  const upstream = project.upstream;
  if (upstream === undefined) return services.acquire(project);
  const mirrored = { id: project.id, gitdir: project.gitdir, upstream };
  if (!('version' in request) || !isCanonical(request.version)) {
    // list, @latest and queries ask what is new.
    await mirrors.fresh(mirrored);
    return services.acquire(project);
  }
  const { version } = request;
  let lease: ServiceLease;
  try {
    lease = await services.acquire(project);
  } catch (err) {
    // A mirror not cloned yet cannot be opened: fetch it, then try once more.
    if (!isNotFound(err)) throw err;
    await mirrors.fresh(mirrored);
    return services.acquire(project);
  }
  try {
    await lease.service.info(request.modulePath, version);
    return lease;
  } catch (err) {
    if (!isNotFound(err)) return lease;
    await mirrors.refresh(mirrored);
    return lease;
  }
}

/** `POST …/packages/go/-/refresh`: fetches the project's mirror now (joining a fetch already running) and answers 202 without waiting. */
export function startRefresh(mirrors: MirrorKeeper, project: ServedProject, principal: Principal | null): void {
  if (!principal) throw new UnauthenticatedError();
  // A fetch writes to the mirror, so it takes GitLab's write scope, as warming does.
  if (!principal.scopes.includes('api')) throw new ForbiddenError('refresh needs the api scope', { op: 'refresh' });
  const upstream = project.upstream;
  if (upstream === undefined) throw new ConflictError('this project has no upstream to refresh from', { op: 'refresh' });
  void mirrors.refresh({ id: project.id, gitdir: project.gitdir, upstream }, { wait: false });
}
