import type { Response } from 'express';
import { authorizedRequest } from './auth.js';

/** The id of the project the auth middleware let through, or undefined when it did not run (for log lines). */
export function projectOf(res: Response): number | string | undefined {
  try {
    return authorizedRequest(res).project.id;
  } catch {
    return undefined;
  }
}
