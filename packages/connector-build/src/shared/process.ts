import { spawn, type ChildProcess } from "node:child_process";

/** Output of a finished process. */
export interface ProcessResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** Options of {@link runProcess}. */
export interface RunProcessOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Written to stdin, then stdin is closed. Default: stdin closed at once. */
  readonly input?: string | Buffer;
  /** Called with each complete stderr line as it arrives (progress). */
  readonly onStderrLine?: (line: string) => void;
  /** Called with each complete stdout line as it arrives. */
  readonly onStdoutLine?: (line: string) => void;
  /** Keep stdout as raw bytes too. */
  readonly binaryStdout?: boolean;
  readonly signal?: AbortSignal;
  /** Called with the child once spawned (to track it, e.g. to stop it on an interrupt). */
  readonly onSpawn?: (child: ChildProcess) => void;
  /**
   * Most bytes kept of stdout, and of stderr: past it the program is killed and the result says
   * `overflowed` (a program printing 600 MiB would otherwise exhaust memory or the string limit).
   * Default: no limit.
   */
  readonly maxOutputBytes?: number;
}

function lineSplitter(onLine: ((line: string) => void) | undefined) {
  let pending = "";
  return {
    push(chunk: string) {
      if (!onLine) return;
      pending += chunk;
      let nl = pending.indexOf("\n");
      while (nl >= 0) {
        onLine(pending.slice(0, nl).replace(/\r$/, ""));
        pending = pending.slice(nl + 1);
        nl = pending.indexOf("\n");
      }
    },
    flush() {
      if (onLine && pending !== "") onLine(pending);
      pending = "";
    },
  };
}

/** Runs a program (no shell) and collects its output; never throws for a non-zero exit. */
export function runProcess(
  program: string,
  args: readonly string[],
  options: RunProcessOptions = {},
): Promise<ProcessResult & { stdoutBytes?: Buffer; overflowed?: "stdout" | "stderr" }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
      signal: options.signal,
    });
    options.onSpawn?.(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const outLines = lineSplitter(options.onStdoutLine);
    const errLines = lineSplitter(options.onStderrLine);
    const sizes = { stdout: 0, stderr: 0 };
    let overflowed: "stdout" | "stderr" | undefined;
    const keep = (stream: "stdout" | "stderr", chunks: Buffer[], b: Buffer): boolean => {
      if (overflowed !== undefined) return false;
      sizes[stream] += b.length;
      if (options.maxOutputBytes !== undefined && sizes[stream] > options.maxOutputBytes) {
        overflowed = stream;
        child.kill("SIGKILL");
        return false;
      }
      chunks.push(b);
      return true;
    };
    child.stdout.on("data", (b: Buffer) => {
      if (keep("stdout", out, b)) outLines.push(b.toString("utf8"));
    });
    child.stderr.on("data", (b: Buffer) => {
      if (keep("stderr", err, b)) errLines.push(b.toString("utf8"));
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      outLines.flush();
      errLines.flush();
      const stdoutBytes = Buffer.concat(out);
      resolve({
        stdout: stdoutBytes.toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        exitCode: code ?? (signal ? 128 + 15 : 1),
        ...(options.binaryStdout ? { stdoutBytes } : {}),
        ...(overflowed !== undefined ? { overflowed } : {}),
      });
    });
    child.stdin.on("error", () => {
      // the program may exit before reading its input
    });
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}
