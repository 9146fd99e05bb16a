import { AirbyteCiError } from "@airbyte-ci/base-images";

/** Error codes raised by `@airbyte-ci/connector-build`; the CLI maps them to exit codes. */
export type ConnectorBuildErrorCode =
  | "USAGE"
  | "CATALOG_NOT_FOUND"
  | "CATALOG_WRITE_FAILED"
  | "ENGINE_UNAVAILABLE"
  | "BUILD_FAILED"
  | "RUN_FAILED"
  | "SANITY_CHECK_FAILED"
  | "PUBLISH_FAILED"
  | "EXPORT_FAILED"
  | "REGISTRY_ERROR"
  | "INVALID_METADATA"
  | "INVALID_CONNECTOR"
  | "HOOK_FAILED"
  | "VERIFICATION_FAILED"
  | "RELEASE_REFUSED"
  | "ANALYZE_FAILED"
  | "MIGRATION_REFUSED"
  | "REBASE_REFUSED"
  | "UNKNOWN_VERSION"
  | "INTERRUPTED";

/** An error raised by `@airbyte-ci/connector-build`. */
export class ConnectorBuildError extends AirbyteCiError<ConnectorBuildErrorCode> {
  constructor(code: ConnectorBuildErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "ConnectorBuildError";
  }
}

/** The last `count` non-empty lines of some output, for error messages. */
export function lastLines(output: string, count = 15): string {
  return output
    .split(/\r?\n/)
    .filter((l) => l.trim() !== "")
    .slice(-count)
    .join("\n");
}
