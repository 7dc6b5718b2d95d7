/**
 * A counting semaphore whose waiters are served first come, first served: the global limit on
 * concurrent cold zip builds. A waiter whose signal aborts leaves the queue at once, so a client
 * that went away never holds a place (or a slot) that someone else is waiting for.
 */
export class FifoSlots {
  private active = 0;
  private readonly queue: { grant: () => void; signal?: AbortSignal; onAbort?: () => void }[] = [];

  constructor(readonly limit: number) {}

  /** Builds running now. */
  get running(): number {
    return this.active;
  }

  /** Builds waiting for a slot. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Resolves with a release function once a slot is free; rejects with the signal's reason if it aborts first. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.active < this.limit && this.queue.length === 0) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter: (typeof this.queue)[number] = {
        grant: () => {
          if (waiter.onAbort) signal?.removeEventListener('abort', waiter.onAbort);
          resolve(this.releaser());
        },
        ...(signal && { signal }),
      };
      if (signal) {
        waiter.onAbort = () => {
          const at = this.queue.indexOf(waiter);
          if (at >= 0) this.queue.splice(at, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.queue.push(waiter);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue.shift();
      // The slot passes straight to the next waiter, so no newcomer can overtake the queue.
      if (next) next.grant();
      else this.active--;
    };
  }
}
