import { AirbyteCiError, type BaseImagesErrorCode } from "@airbyte-ci/base-images";
import type { HooksErrorCode } from "@airbyte-ci/hooks";

/** Error codes raised by `@airbyte-ci/connector-build`; {@link EXIT_CODES} maps each to an exit code. */
export type ConnectorBuildErrorCode =
  | "USAGE"
  | "CATALOG_NOT_FOUND"
  | "CATALOG_INVALID_JSON"
  | "ENGINE_UNAVAILABLE"
  | "BUILD_FAILED"
  | "RUN_FAILED"
  | "SANITY_CHECK_FAILED"
  | "PUBLISH_FAILED"
  | "EXPORT_FAILED"
  | "REGISTRY_ERROR"
  | "INVALID_REFERENCE"
  | "INVALID_METADATA"
  | "INVALID_CONNECTOR"
  | "HOOK_FAILED"
  | "VERIFICATION_FAILED"
  | "RELEASE_REFUSED"
  | "ANALYZE_FAILED"
  | "MIGRATION_REFUSED"
  | "REBASE_REFUSED"
  | "UNKNOWN_VERSION"
  | "BASE_IMAGE_UNPUBLISHED"
  | "INVALID_KEY"
  | "RESOLUTION_FAILED"
  | "RESOLVER_UNAVAILABLE"
  | "INTERRUPTED"
  | "TERMINATED";

/** An error raised by `@airbyte-ci/connector-build`. */
export class ConnectorBuildError extends AirbyteCiError<ConnectorBuildErrorCode> {
  static override readonly marker: symbol = Symbol.for("@airbyte-ci/error/ConnectorBuildError");

  constructor(code: ConnectorBuildErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "ConnectorBuildError";
  }
}

/** Every error code of the toolkit: base images, hooks, connector build. */
export type ErrorCode = BaseImagesErrorCode | HooksErrorCode | ConnectorBuildErrorCode;

/**
 * Exit codes of the CLI: 0 ok, 1 failure, 2 bad input (before any work), 3 no engine, and the
 * shell's convention for a signal (128 + its number): 130 interrupted (SIGINT), 143 terminated (SIGTERM).
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, engine: 3, interrupted: 130, terminated: 143 } as const;

/** One of {@link EXIT}'s values. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * The one table from error code to exit code. A code added to any package's code union and not
 * mapped here fails the typecheck. Input problems (the user can fix the command line, a file or a
 * reference) exit 2; failures of the work (a build, a check, the network, the registry) exit 1.
 */
export const EXIT_CODES = {
  // @airbyte-ci/base-images: the catalog, recipes and addresses given
  INVALID_IMAGE_ADDRESS: EXIT.usage,
  INVALID_PLATFORM: EXIT.usage,
  INVALID_RECIPE: EXIT.usage,
  INVALID_CATALOG: EXIT.usage,
  UNKNOWN_VERSION: EXIT.usage,
  UNKNOWN_BASE_IMAGE: EXIT.usage,
  // @airbyte-ci/hooks
  INVALID_BUILD_CUSTOMIZATION: EXIT.usage,
  // @airbyte-ci/connector-build: input
  USAGE: EXIT.usage,
  CATALOG_NOT_FOUND: EXIT.usage,
  CATALOG_INVALID_JSON: EXIT.usage,
  INVALID_REFERENCE: EXIT.usage,
  INVALID_METADATA: EXIT.usage,
  INVALID_CONNECTOR: EXIT.usage,
  HOOK_FAILED: EXIT.usage,
  RELEASE_REFUSED: EXIT.usage,
  MIGRATION_REFUSED: EXIT.usage,
  REBASE_REFUSED: EXIT.usage,
  BASE_IMAGE_UNPUBLISHED: EXIT.usage,
  INVALID_KEY: EXIT.usage,
  // @airbyte-ci/connector-build: the work failed
  BUILD_FAILED: EXIT.failure,
  RUN_FAILED: EXIT.failure,
  SANITY_CHECK_FAILED: EXIT.failure,
  PUBLISH_FAILED: EXIT.failure,
  EXPORT_FAILED: EXIT.failure,
  REGISTRY_ERROR: EXIT.failure,
  VERIFICATION_FAILED: EXIT.failure,
  ANALYZE_FAILED: EXIT.failure,
  RESOLUTION_FAILED: EXIT.failure,
  // environment and signals
  ENGINE_UNAVAILABLE: EXIT.engine,
  RESOLVER_UNAVAILABLE: EXIT.engine,
  INTERRUPTED: EXIT.interrupted,
  TERMINATED: EXIT.terminated,
} as const satisfies Record<ErrorCode, ExitCode>;

/** Maps an error to the CLI's exit code: a toolkit error by {@link EXIT_CODES}, anything else 1. */
export function exitCodeFor(error: unknown): ExitCode {
  if (AirbyteCiError.isInstance(error) && Object.hasOwn(EXIT_CODES, error.code)) return EXIT_CODES[error.code as ErrorCode];
  return EXIT.failure;
}

/** The last `count` non-empty lines of some output, for error messages. */
export function lastLines(output: string, count = 15): string {
  return output
    .split(/\r?\n/)
    .filter((l) => l.trim() !== "")
    .slice(-count)
    .join("\n");
}
