import type { Response } from 'express';
import { InternalError } from '../src/errors.js';
import type { ProjectServices } from '../src/service/project-services.js';
import type { ProxyRequest } from '../src/service/proxy-path.js';
import type { Project } from '../src/service/stores.js';
import { abortOnClose, cachePolicyFor, sendInfo, sendList, sendMod, sendZip } from './responses.js';

/** Answers one GOPROXY request from a project the caller may read (the group endpoint's serving half). */
export async function serveModuleRequest(services: ProjectServices, project: Project, request: ProxyRequest, res: Response): Promise<void> {
  // Held until the response is over: a zip streams after this returns.
  const { service, release } = await services.acquire(project);
  res.once('close', release);
  const cacheControl = cachePolicyFor(request, project.visibility);
  switch (request.kind) {
    case 'list':
      sendList(res, await service.list(request.modulePath), cacheControl);
      return;
    case 'latest':
      sendInfo(res, await service.latest(request.modulePath), cacheControl);
      return;
    case 'info':
      sendInfo(res, await service.info(request.modulePath, request.version), cacheControl);
      return;
    case 'mod':
      sendMod(res, await service.goMod(request.modulePath, request.version), cacheControl);
      return;
    case 'zip':
      await sendZip(res, await service.zip(request.modulePath, request.version), request.version, cacheControl, abortOnClose(res));
      return;
    default: {
      const unhandled: never = request;
      throw new InternalError(`unhandled proxy request ${JSON.stringify(unhandled)}`, { op: 'route' });
    }
  }
}
