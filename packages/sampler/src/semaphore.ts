/**
 * At most `limit` holders at once, served first come first served. An engine shares one among
 * all its calls, so `concurrency` bounds the requests in flight however many callers there are.
 */
export class Semaphore {
  private held = 0;
  private readonly queue: { resolve: () => void; reject: (e: unknown) => void }[] = [];

  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError(`concurrency must be ≥ 1, got ${limit}`);
  }

  /** Resolves once a slot is free; rejects with the signal's reason when it is aborted first. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.held < this.limit) {
      this.held++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
      };
      const onAbort = () => {
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  /** Frees a slot: the longest waiter gets it. */
  release(): void {
    const next = this.queue.shift();
    if (next) next.resolve();
    else this.held--;
  }

  /** Runs `fn` holding a slot. */
  async use<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}
