import { AirbyteCiError } from "@airbyte-ci/base-images";
import { ConnectorBuildError, EXIT } from "../errors.ts";
import { runCleanups } from "../shared/cleanup.ts";

/**
 * The CLI's one convention for a run ended by a signal, for every command: the shell's 128 + the
 * signal's number, so 130 for SIGINT (Ctrl-C) and 143 for SIGTERM.
 */
export function exitCodeForSignal(signal: NodeJS.Signals): number {
  return signal === "SIGTERM" ? EXIT.terminated : EXIT.interrupted;
}

/**
 * Runs `fn` with an AbortSignal that SIGINT and SIGTERM abort. The CLI owns the process's signal
 * handlers: library code takes the signal and checks it between steps. What library code holds
 * outside the process (temporary folders, build clients, containers) is released at once.
 * An `INTERRUPTED` error `fn` throws after SIGTERM becomes `TERMINATED` (exit 143), so the exit code
 * says which signal ended the run, as {@link withCleanupOnInterrupt} does.
 */
export async function withInterruptSignal<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    received ??= signal;
    controller.abort();
    void runCleanups();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return await fn(controller.signal);
  } catch (error) {
    if (received === "SIGTERM" && AirbyteCiError.isInstance(error) && error.code === "INTERRUPTED") {
      throw new ConnectorBuildError("TERMINATED", error.message.replace(/^interrupted/, "terminated (SIGTERM)"), { cause: error });
    }
    throw error;
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
      process.exit(exitCodeForSignal(signal));
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
