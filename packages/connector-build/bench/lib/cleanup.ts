import { killTrackedProcesses } from "./proc.ts";
import { log } from "./context.ts";

const cleanups: Array<{ what: string; fn: () => Promise<void> | void }> = [];
let cleaningUp = false;
let interrupted = false;

/** Registers a cleanup, run last-registered first by {@link runCleanups}. */
export function onCleanup(what: string, fn: () => Promise<void> | void): void {
  cleanups.push({ what, fn });
}

export function isCleaningUp(): boolean {
  return cleaningUp;
}

export function wasInterrupted(): boolean {
  return interrupted;
}

/** Runs every registered cleanup once; a failing one is logged and the others still run. */
export async function runCleanups(): Promise<void> {
  if (cleaningUp) return;
  cleaningUp = true;
  while (cleanups.length > 0) {
    const c = cleanups.pop();
    if (!c) break;
    try {
      await c.fn();
    } catch (error) {
      log(`cleanup (${c.what}) failed: ${(error as Error).message}`);
    }
  }
}

/** On SIGINT/SIGTERM: stop the processes the benchmark started, clean up, exit 130. The benchmark is a program, not library code. */
export function handleInterrupts(): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (interrupted) return;
      interrupted = true;
      log(`${signal}: stopping (processes started by the benchmark: ${killTrackedProcesses()} signalled), cleaning up`);
      void runCleanups().finally(() => process.exit(130));
    });
  }
}
