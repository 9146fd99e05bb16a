const MARKER = Symbol.for("@airbyte-ci/error");

/**
 * The one error base class of the toolkit. `code` is stable and machine-readable; the message says
 * what was wrong, where, and what was expected. Other packages narrow `Code` to their own codes.
 */
export class AirbyteCiError<Code extends string = string> extends Error {
  /** Marker that survives realms and duplicated package copies, see {@link AirbyteCiError.isInstance}. */
  private readonly [MARKER] = true;
  /** Stable, machine-readable error code. */
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AirbyteCiError";
    this.code = code;
  }

  /** True for any toolkit error, even one thrown by another copy of this package (hook files). */
  static isInstance(value: unknown): value is AirbyteCiError {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }
}

/** Error codes raised by `@airbyte-ci/base-images`. */
export type BaseImagesErrorCode =
  | "INVALID_IMAGE_ADDRESS"
  | "INVALID_PLATFORM"
  | "INVALID_RECIPE"
  | "INVALID_CATALOG"
  | "UNKNOWN_VERSION"
  | "UNKNOWN_BASE_IMAGE";

/** An error raised by `@airbyte-ci/base-images`. */
export class BaseImagesError extends AirbyteCiError<BaseImagesErrorCode> {
  constructor(code: BaseImagesErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "BaseImagesError";
  }
}
