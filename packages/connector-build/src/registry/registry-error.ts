import { ConnectorBuildError } from "../errors.ts";

export type RegistryErrorReason =
  /** The reference or argument is malformed. */
  | "INVALID_REFERENCE"
  /** The registry could not be reached (connection refused, DNS, TLS, reset). */
  | "UNREACHABLE"
  /** The registry did not answer in time. */
  | "TIMEOUT"
  /** The registry answered with an unexpected HTTP status. */
  | "HTTP_STATUS"
  /** The registry (or its token server) refused our credentials or has none for us. */
  | "AUTH"
  /** Content does not hash to the digest it was asked or announced by. */
  | "DIGEST_MISMATCH"
  /** A manifest, index or config is not what the API promises. */
  | "INVALID_MANIFEST"
  /** A tag-only reference where a digest is required. */
  | "NOT_PINNED"
  /** A multi-platform index where a single-platform manifest is required. */
  | "IS_INDEX"
  /** A manifest of another platform than expected. */
  | "PLATFORM_MISMATCH";

/**
 * A registry failure; `reason` says which kind. `code` is `INVALID_REFERENCE` (exit 2) for a
 * malformed reference, digest or tag given to the client, `REGISTRY_ERROR` (exit 1) otherwise.
 */
export class RegistryError extends ConnectorBuildError {
  static override readonly marker: symbol = Symbol.for("@airbyte-ci/error/RegistryError");
  /** Which kind of failure. */
  readonly reason: RegistryErrorReason;
  /** Registry host as named in the reference (`docker.io`, `127.0.0.1:5000`). */
  readonly registry: string | undefined;
  /** Request URL, when a request was made. */
  readonly url: string | undefined;
  /** HTTP status, when the registry answered. */
  readonly status: number | undefined;
  /** The registry's error codes (`MANIFEST_UNKNOWN`, …), when it sent an error body. */
  readonly registryCodes: readonly string[];

  constructor(
    reason: RegistryErrorReason,
    message: string,
    details: { registry?: string; url?: string; status?: number; registryCodes?: readonly string[]; cause?: unknown } = {},
  ) {
    super(reason === "INVALID_REFERENCE" ? "INVALID_REFERENCE" : "REGISTRY_ERROR", message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "RegistryError";
    this.reason = reason;
    this.registry = details.registry;
    this.url = details.url;
    this.status = details.status;
    this.registryCodes = details.registryCodes ?? [];
  }
}
