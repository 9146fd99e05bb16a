import type { ChildProcess } from "node:child_process";
import { lastLines } from "../../src/errors.ts";
import { runProcess } from "../../src/shared/process.ts";

/** Output of a finished process. */
export interface ProcResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
  /** Wall time from spawn to exit. */
  readonly ms: number;
}

const active = new Set<ChildProcess>();

/**
 * Runs a program (no shell), collecting output, through the toolkit's own {@link runProcess}, timed.
 * Children are tracked so an interrupted benchmark can stop exactly the processes it started
 * ({@link killTrackedProcesses}).
 */
export async function run(
  program: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; onLine?: (line: string) => void } = {},
): Promise<ProcResult> {
  const started = performance.now();
  let tracked: ChildProcess | undefined;
  try {
    const result = await runProcess(program, args, {
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      ...(options.env !== undefined ? { env: options.env } : {}),
      ...(options.onLine ? { onStdoutLine: options.onLine, onStderrLine: options.onLine } : {}),
      onSpawn: (child) => {
        tracked = child;
        active.add(child);
      },
    });
    return { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode, ms: performance.now() - started };
  } catch (error) {
    throw new Error(`cannot run ${program}: ${(error as Error).message}`);
  } finally {
    if (tracked) active.delete(tracked);
  }
}

/** Sends SIGTERM to every child {@link run} started that is still running, by pid. */
export function killTrackedProcesses(): number {
  let n = 0;
  for (const child of active) {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(child.pid, "SIGTERM");
        n++;
      } catch {
        // already gone
      }
    }
  }
  return n;
}

/** The last `count` non-empty lines of some output. */
export const tail = lastLines;
