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

/**
 * Runs a program (no shell), collecting output. Children are tracked so an interrupted benchmark
 * can stop exactly the processes it started ({@link killTrackedProcesses}).
 */
export function run(
  program: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; onLine?: (line: string) => void } = {},
): Promise<ProcResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(program, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    active.add(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let pending = "";
    const lines = (b: Buffer) => {
      if (!options.onLine) return;
      pending += b.toString("utf8");
      let nl = pending.indexOf("\n");
      while (nl >= 0) {
        options.onLine(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
        nl = pending.indexOf("\n");
      }
    };
    child.stdout?.on("data", (b: Buffer) => {
      out.push(b);
      lines(b);
    });
    child.stderr?.on("data", (b: Buffer) => {
      err.push(b);
      lines(b);
    });
    child.on("error", (error) => {
      active.delete(child);
      reject(new Error(`cannot run ${program}: ${error.message}`));
    });
    child.on("close", (code, signal) => {
      active.delete(child);
      if (pending && options.onLine) options.onLine(pending);
      resolve({
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        exitCode: code ?? (signal ? 128 + 15 : 1),
        ms: performance.now() - started,
      });
    });
  });
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
export function tail(output: string, count = 15): string {
  return output
    .split(/\r?\n/)
    .filter((l) => l.trim() !== "")
    .slice(-count)
    .join("\n");
}
