import { ExecError, ReturnType } from "@dagger.io/dagger";
import type { Container } from "@dagger.io/dagger";
import { ConnectorBuildError, lastLines } from "../../errors.ts";
import type { BuiltImage, RunOptions, RunResult } from "../engine.ts";
import { isConnectionError } from "./scrub.ts";
import type { SecretScrubber } from "./scrub.ts";

/** Seconds `timeout` waits after its TERM before it sends KILL. */
const KILL_AFTER_SECONDS = 5;
/** What GNU `timeout --verbose` writes to stderr when the limit is reached, whichever signal it sends. */
const TIMED_OUT = /^timeout: sending signal (TERM|KILL) to command /m;
/** What the Dagger engine says when the image has no `timeout`. */
const NO_TIMEOUT = /^exec: "timeout": executable file not found/;

/**
 * The argv that runs `argv` for at most `timeoutMs`: coreutils `timeout`, in the container. A Dagger
 * exec has no time limit of its own and the SDK cannot cancel one, so the limit is kept inside: after
 * the limit `timeout` sends TERM to the command's process group, KILL {@link KILL_AFTER_SECONDS} later,
 * then exits; the exec ends, and with it the container's init and every process left in it.
 */
export function withTimeout(argv: readonly string[], timeoutMs: number): string[] {
  const seconds = Math.max(timeoutMs, 1) / 1000;
  return ["timeout", "--verbose", `--kill-after=${KILL_AFTER_SECONDS}s`, `${seconds}s`, ...argv];
}

/**
 * Runs `argv` in `container` (the image without its build residue) and returns its output and exit
 * code; a non-zero exit code is a result, not an error. With `timeoutMs`, a run still going after the
 * limit throws RUN_FAILED (see {@link withTimeout}).
 */
export async function runInContainer(
  container: Container,
  image: BuiltImage,
  argv: readonly string[],
  options: RunOptions,
  errors: SecretScrubber,
): Promise<RunResult> {
  if (!options.useEntrypoint && argv.length === 0) {
    throw new ConnectorBuildError("RUN_FAILED", "run: an argv is required when the entrypoint is not used");
  }
  try {
    let command = [...argv];
    let useEntrypoint = options.useEntrypoint === true;
    if (options.timeoutMs !== undefined) {
      // The wrapper goes before the entrypoint, so the entrypoint is prepended here rather than by Dagger.
      if (useEntrypoint) command = [...(await container.entrypoint()), ...command];
      useEntrypoint = false;
      if (command.length === 0) throw new ConnectorBuildError("RUN_FAILED", `run: the ${image.platform} image has no entrypoint and no argv was given`);
      command = withTimeout(command, options.timeoutMs);
    }
    const done = await container.withExec(command, { expect: ReturnType.Any, ...(useEntrypoint ? { useEntrypoint: true } : {}) }).sync();
    const [stdout, stderr, exitCode] = await Promise.all([done.stdout(), done.stderr(), done.exitCode()]);
    if (options.timeoutMs !== undefined) {
      // With `expect: ANY`, an argv that cannot start is a result: exit code 1 and Dagger's message.
      if (exitCode !== 0 && NO_TIMEOUT.test(stderr)) throw missingTimeout(image);
      if ((exitCode === 124 || exitCode === 137) && TIMED_OUT.test(stderr)) {
        throw new ConnectorBuildError(
          "RUN_FAILED",
          `${JSON.stringify(argv)} in the ${image.platform} image did not finish within ${Math.round(options.timeoutMs / 1000)} s: the Dagger engine stopped it (its container is gone)\nlast output:\n${
            errors.scrub(lastLines(`${stdout}\n${stderr.replace(TIMED_OUT, "")}`)) || "(none)"
          }`,
        );
      }
    }
    return { stdout, stderr, exitCode };
  } catch (error) {
    if (error instanceof ConnectorBuildError) throw error;
    if (isConnectionError(error)) throw errors.wrap("ENGINE_UNAVAILABLE", `the Dagger engine went away running ${JSON.stringify(argv)}`, error);
    if (error instanceof ExecError) {
      throw new ConnectorBuildError(
        "RUN_FAILED",
        errors.scrub(`${JSON.stringify(argv)} in the ${image.platform} image ended abnormally (exit code ${error.exitCode}):\n${lastLines(`${error.stdout}\n${error.stderr}`) || "(no output)"}`),
        { cause: errors.safeCause(error) },
      );
    }
    throw errors.wrap("RUN_FAILED", `could not run ${JSON.stringify(argv)} in the ${image.platform} image`, error);
  }
}

function missingTimeout(image: BuiltImage): ConnectorBuildError {
  return new ConnectorBuildError(
    "RUN_FAILED",
    `the ${image.platform} image has no timeout command (coreutils): the Dagger engine needs it in the image to stop a run after its time limit`,
  );
}
