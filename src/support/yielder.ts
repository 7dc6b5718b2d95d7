import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Object reads are synchronous (positioned reads and inflates of page-cached packs are faster
 * that way), so a long walk over trees or commits never gives the event loop a turn by itself.
 * A yielder hands it one whenever a walk has held it for longer than the budget, which keeps
 * other requests' latency bounded while a large zip is planned.
 */
export function createYielder(budgetMs = 5): () => Promise<void> | undefined {
  let since = performance.now();
  return function maybeYield() {
    const now = performance.now();
    if (now - since < budgetMs) return undefined;
    return nextTurn().then(() => {
      since = performance.now();
    });
  };
}
