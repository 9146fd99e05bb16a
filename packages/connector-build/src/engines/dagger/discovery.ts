import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/**
 * True when the environment hands us a Dagger engine: a session to attach to
 * (`DAGGER_SESSION_PORT` and `DAGGER_SESSION_TOKEN`, as `dagger run` sets them) or a remote engine
 * (`_EXPERIMENTAL_DAGGER_RUNNER_HOST`; the session to it is still opened by a Dagger CLI, which the
 * SDK downloads when none is given).
 */
export function daggerSessionAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean((env.DAGGER_SESSION_PORT && env.DAGGER_SESSION_TOKEN) || env._EXPERIMENTAL_DAGGER_RUNNER_HOST);
}

/** The Dagger CLI to open sessions with: `_EXPERIMENTAL_DAGGER_CLI_BIN` when it exists, else `dagger` on PATH. */
export function findDaggerCli(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const override = env._EXPERIMENTAL_DAGGER_CLI_BIN;
  if (override && isExecutable(override)) return override;
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, "dagger");
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** True when a Dagger CLI binary is available ({@link findDaggerCli}), to provision an engine from. */
export function daggerCliAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  return findDaggerCli(env) !== undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
