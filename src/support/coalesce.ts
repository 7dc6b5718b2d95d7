/**
 * Wraps a refresh so that concurrent callers share runs, while every caller still gets the
 * result of a run that started after it called: a run already under way may have looked at the
 * filesystem before the change the caller is waiting for, so late callers share the next run.
 */
export function coalesce<T>(run: () => Promise<T>): () => Promise<T> {
  let current: Promise<T> | undefined;
  let next: Promise<T> | undefined;
  function start(): Promise<T> {
    const started = run().finally(() => {
      if (current === started) current = undefined;
    });
    current = started;
    return started;
  }
  return function coalesced(): Promise<T> {
    if (current === undefined) return start();
    next ??= current
      .catch(() => undefined)
      .then(() => {
        next = undefined;
        return start();
      });
    return next;
  };
}
