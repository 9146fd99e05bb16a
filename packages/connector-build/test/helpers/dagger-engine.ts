// The Dagger engine the test command prepared (scripts/test.sh, scripts/wait-dagger-engine.sh), for
// the test files that use it: read from names only those files read, and set for the SDK. A file
// importing this module belongs to the late suite (test/test-suites.test.ts checks it).
import { existsSync } from "node:fs";

export const RUNNER_HOST = process.env.AIRBYTE_CI_DAGGER_RUNNER_HOST ?? process.env._EXPERIMENTAL_DAGGER_RUNNER_HOST;
export const CLI_BIN = process.env.AIRBYTE_CI_DAGGER_CLI_BIN ?? process.env._EXPERIMENTAL_DAGGER_CLI_BIN;
export const ENGINE_PRESENT = Boolean(RUNNER_HOST && CLI_BIN && existsSync(CLI_BIN));
export const IN_CI = process.env.CI === "true" || process.env.CI === "1";
if (ENGINE_PRESENT) {
  process.env._EXPERIMENTAL_DAGGER_RUNNER_HOST = RUNNER_HOST;
  process.env._EXPERIMENTAL_DAGGER_CLI_BIN = CLI_BIN;
}
/** The environment a CLI child process needs to reach the engine. */
export const DAGGER_ENV = { _EXPERIMENTAL_DAGGER_RUNNER_HOST: RUNNER_HOST ?? "", _EXPERIMENTAL_DAGGER_CLI_BIN: CLI_BIN ?? "" };
/** Why a Dagger test cannot run: a failure in CI, a skip elsewhere. */
export const NO_ENGINE = `no Dagger engine: AIRBYTE_CI_DAGGER_RUNNER_HOST/AIRBYTE_CI_DAGGER_CLI_BIN (or _EXPERIMENTAL_DAGGER_RUNNER_HOST/_EXPERIMENTAL_DAGGER_CLI_BIN) are not set to a running engine and its CLI (got ${RUNNER_HOST ?? "unset"}, ${CLI_BIN ?? "unset"}): scripts/test.sh prepares them with scripts/env/dagger-engine.sh (log: .local/logs/dagger-engine.log)`;
