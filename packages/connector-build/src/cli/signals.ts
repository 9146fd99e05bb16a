import { runCleanups } from "../shared/cleanup.ts";

/**
 * Runs `fn` with an AbortSignal that SIGINT and SIGTERM abort. The CLI owns the process's signal
 * handlers: library code takes the signal and checks it between steps. What library code holds
 * outside the process (temporary folders, build clients, containers) is released at once.
 */
export async function withInterruptSignal<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = () => {
    controller.abort();
    void runCleanups();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return await fn(controller.signal);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/**
 * Runs `fn`; on SIGINT or SIGTERM, releases everything library code registered (temporary folders
 * with secret files, build clients, containers), says so, and exits 130 (143 for SIGTERM) without
 * waiting for `fn`: nothing it would still do is worth keeping.
 */
export async function withCleanupOnInterrupt<T>(what: string, fn: () => Promise<T>): Promise<T> {
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    void runCleanups().finally(() => {
      process.stderr.write(`connector-build: interrupted (${signal}): ${what} stopped; temporary files and containers removed\n`);
      process.exit(signal === "SIGTERM" ? 143 : 130);
    });
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return await fn();
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
