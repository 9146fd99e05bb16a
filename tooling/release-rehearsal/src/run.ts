import { spawn } from "node:child_process";

/** What a finished command printed and how it ended. */
export interface RunResult {
  readonly command: string;
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export interface RunOptions {
  readonly cwd: string;
  /** Added to the cleaned environment (see {@link cleanEnv}). */
  readonly env?: Record<string, string>;
  /** Default: false, a non-zero exit throws with the command's output. */
  readonly allowFailure?: boolean;
}

/**
 * The environment of this process without what the runner around it injected: pnpm/npm script
 * variables (npm_config_*, npm_package_*), turbo's and vitest's. A nested `pnpm release` or `npm
 * install` must see only the configuration the rehearsal gives it, as on a maintainer's machine.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_script|turbo_|vitest)/i.test(key) || ["NODE_ENV", "INIT_CWD", "TEST", "NODE_OPTIONS"].includes(key)) continue;
    env[key] = value;
  }
  env.TURBO_TELEMETRY_DISABLED = "1";
  env.TURBO_NO_UPDATE_NOTIFIER = "1";
  env.DO_NOT_TRACK = "1";
  return { ...env, ...extra };
}

/** Runs a command to completion, collecting its output; throws on a non-zero exit unless allowed. */
export function run(file: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const command = [file, ...args].join(" ");
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: options.cwd, env: cleanEnv(options.env), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", (error) => reject(new Error(`${command} (in ${options.cwd}) could not start: ${error.message}`, { cause: error })));
    child.on("close", (code, signal) => {
      const result: RunResult = { command, exitCode: code ?? 128, stdout, stderr, ms: performance.now() - started };
      if (result.exitCode !== 0 && !options.allowFailure) {
        const tail = `${stdout}\n${stderr}`.trim().split("\n").slice(-40).join("\n");
        reject(new Error(`${command} (in ${options.cwd}) exited with ${code ?? signal}: expected 0\n${tail}`));
        return;
      }
      resolve(result);
    });
  });
}
