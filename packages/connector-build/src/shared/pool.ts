import { availableParallelism } from "node:os";

/** Runs async tasks with at most `concurrency` of them in flight at once. */
export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

/**
 * Creates a {@link Limiter}. A finishing task hands its slot directly to the next queued one, so
 * the bound holds even when new tasks are submitted while others are finishing.
 */
export function createLimiter(concurrency: number): Limiter {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${String(concurrency)}`);
  }
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active < concurrency) active++;
    else await new Promise<void>((resume) => waiting.push(resume));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

/** What the machine can run at once (`os.availableParallelism()`): the default `--concurrency` of build and rebase. */
export function machineConcurrency(): number {
  return Math.max(1, availableParallelism());
}
