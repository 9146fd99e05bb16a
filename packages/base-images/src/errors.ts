const MARKER = Symbol.for("@airbyte-ci/error");

/**
 * The one error base class of the toolkit. `code` is stable and machine-readable; the message says
 * what was wrong, where, and what was expected. Other packages narrow `Code` to their own codes.
 *
 * Each class of the family has its own marker (a registered symbol), so `X.isInstance(value)` is
 * true only for an `X` (or a subclass of it), even one thrown by another copy of the package (hook
 * files load their own copy).
 */
export class AirbyteCiError<Code extends string = string> extends Error {
  /** The marker of this class; a subclass that declares its own gets its own `isInstance`. */
  static readonly marker: symbol = MARKER;
  /** Stable, machine-readable error code. */
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AirbyteCiError";
    this.code = code;
    // Mark the error with the marker of every class of its chain that declares one.
    for (let c: unknown = new.target; typeof c === "function" && c !== Error; c = Object.getPrototypeOf(c)) {
      if (Object.hasOwn(c, "marker")) Object.defineProperty(this, (c as unknown as { marker: symbol }).marker, { value: true });
    }
  }

  /** True for an error of this class (or a subclass), even one thrown by another copy of this package. */
  static isInstance<T extends abstract new (...args: never[]) => AirbyteCiError>(this: T & { marker: symbol }, value: unknown): value is InstanceType<T> {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[this.marker] === true;
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
  static override readonly marker: symbol = Symbol.for("@airbyte-ci/error/BaseImagesError");

  constructor(code: BaseImagesErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "BaseImagesError";
  }
}
