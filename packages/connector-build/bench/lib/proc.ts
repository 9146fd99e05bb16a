import { spawn, type ChildProcess } from "node:child_process";

/** Output of a finished process. */
export interface ProcResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
  /** Wall time from spawn to exit. */
  readonly ms: number;
}

const active = new Set<ChildProcess>();

/** Spawns a program (no shell) and collects its output, calling `onLine` per complete line of either stream. */
function spawnCollect(
  program: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; onLine?: (line: string) => void; onSpawn: (child: ChildProcess) => void },
): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(program, [...args], { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    options.onSpawn(child);
    const out = { stdout: "", stderr: "" };
    for (const stream of ["stdout", "stderr"] as const) {
      let pending = "";
      child[stream].setEncoding("utf8");
      child[stream].on("data", (chunk: string) => {
        out[stream] += chunk;
        if (!options.onLine) return;
        pending += chunk;
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) options.onLine(line);
      });
      child[stream].on("end", () => {
        if (options.onLine && pending !== "") options.onLine(pending);
      });
    }
    child.on("error", reject);
    child.on("close", (code, signal) => resolvePromise({ ...out, exitCode: code ?? (signal ? 128 : 1) }));
  });
}

/**
 * Runs a program (no shell), collecting output, timed.
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
    const result = await spawnCollect(program, args, {
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      ...(options.env !== undefined ? { env: options.env } : {}),
      ...(options.onLine ? { onLine: options.onLine } : {}),
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
export function tail(text: string, count: number): string {
  return text.split("\n").filter((line) => line.trim() !== "").slice(-count).join("\n");
}
