/**
 * Disposers for what a running operation holds outside the process: temporary folders (which may
 * hold secret files), child processes, named containers. Library code registers them while it
 * holds the resource and unregisters when it released it itself; the CLI, which owns the signal
 * handlers, runs whatever is still registered when SIGINT or SIGTERM arrives, then exits.
 */
type Disposer = () => void | Promise<void>;

const disposers = new Set<Disposer>();

/** Registers a disposer; returns the function that unregisters it (call it once released normally). */
export function registerCleanup(dispose: Disposer): () => void {
  disposers.add(dispose);
  return () => {
    disposers.delete(dispose);
  };
}

/** Runs every registered disposer once (newest first), each failure ignored so the others still run. */
export async function runCleanups(): Promise<void> {
  const pending = [...disposers].reverse();
  disposers.clear();
  await Promise.all(pending.map((dispose) => Promise.resolve().then(dispose).catch(() => undefined)));
}
