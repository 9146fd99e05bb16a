import { AirbyteCiError, type ImageRecipe, type Platform } from "@airbyte-ci/base-images";

export type { ImageRecipe, Platform, RecipeOperation } from "@airbyte-ci/base-images";

/** What a hook knows about the build it customises. */
export interface HookContext {
  /** The connector being built. */
  readonly connector: {
    /** Folder name, e.g. `source-zendesk-chat`. */
    readonly technicalName: string;
    /** `data.dockerRepository` of metadata.yaml. */
    readonly dockerRepository: string;
    /** `data.dockerImageTag` of metadata.yaml. */
    readonly dockerImageTag: string;
  };
  /** The platform this recipe is built for. */
  readonly platform: Platform;
  /** The base image version the connector is built on. */
  readonly baseImageVersion: string;
}

/** A hook takes the recipe built so far and returns the recipe to continue with, sync or async. */
export type BuildHook = (recipe: ImageRecipe, context: HookContext) => ImageRecipe | Promise<ImageRecipe>;

/** A connector's customisation of the common build, kept in `build_customization.ts`. */
export interface BuildCustomization {
  /** The file the entrypoint runs. Default: `main.py`. */
  readonly mainFileName?: string;
  /** Runs on the base image, before the workdir and the connector's dependency install. Default: none. */
  readonly preConnectorInstall?: BuildHook;
  /** Runs last, after the code, entrypoint and labels. Default: none. */
  readonly postConnectorInstall?: BuildHook;
}

const KNOWN_KEYS = new Set(["mainFileName", "preConnectorInstall", "postConnectorInstall"]);
const MAIN_FILE_NAME = /^[A-Za-z0-9_.-]+\.py$/;

/** Error codes raised by `@airbyte-ci/hooks`. */
export type HooksErrorCode = "INVALID_BUILD_CUSTOMIZATION";

/** An error raised by `@airbyte-ci/hooks`: a build customisation that is not well formed. */
export class HooksError extends AirbyteCiError<HooksErrorCode> {
  static override readonly marker: symbol = Symbol.for("@airbyte-ci/error/HooksError");

  constructor(code: HooksErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "HooksError";
  }
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value) ?? String(value)}`.trim();
}

/**
 * Checks that a value is a build customisation: an object whose keys are known, whose hooks are
 * functions and whose `mainFileName` is a Python file name. The one check of a customisation, used
 * by {@link defineBuildCustomization} and by the build when it loads `build_customization.ts`.
 *
 * @param where - prefix of the error message, e.g. `defineBuildCustomization`.
 * @throws HooksError `INVALID_BUILD_CUSTOMIZATION` naming the problem.
 */
export function validateBuildCustomization(value: unknown, where = "defineBuildCustomization"): BuildCustomization {
  const fail = (message: string): never => {
    throw new HooksError("INVALID_BUILD_CUSTOMIZATION", `${where}: ${message}`);
  };
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail(`expected an object with mainFileName, preConnectorInstall or postConnectorInstall, got ${describeValue(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!KNOWN_KEYS.has(key)) fail(`unknown key '${key}': expected mainFileName, preConnectorInstall or postConnectorInstall`);
  }
  const { mainFileName, preConnectorInstall, postConnectorInstall } = value as Record<string, unknown>;
  if (mainFileName !== undefined && (typeof mainFileName !== "string" || !MAIN_FILE_NAME.test(mainFileName))) {
    fail(`mainFileName must be a Python file name such as main.py, got ${JSON.stringify(mainFileName)}`);
  }
  for (const [name, hook] of [["preConnectorInstall", preConnectorInstall], ["postConnectorInstall", postConnectorInstall]] as const) {
    if (hook !== undefined && typeof hook !== "function") fail(`${name} must be a function (recipe, context) => recipe, got ${describeValue(hook)}`);
  }
  // Plain data holding the values just checked, each read once: a getter cannot answer this check
  // with one value and the build with another.
  return {
    ...(mainFileName !== undefined ? { mainFileName: mainFileName as string } : {}),
    ...(preConnectorInstall !== undefined ? { preConnectorInstall: preConnectorInstall as BuildHook } : {}),
    ...(postConnectorInstall !== undefined ? { postConnectorInstall: postConnectorInstall as BuildHook } : {}),
  };
}

/**
 * Declares a connector's build customisation, typed. Export it as the default export of
 * `build_customization.ts` beside `metadata.yaml`:
 *
 * ```ts
 * import { defineBuildCustomization } from "@airbyte-ci/hooks";
 * export default defineBuildCustomization({
 *   postConnectorInstall: (recipe) => recipe.withEnvVariable("AIRBYTE_IMPL_MODULE", "source_x"),
 * });
 * ```
 *
 * Unknown keys and wrongly typed values throw at once, so a typo is not silently ignored.
 *
 * @throws HooksError `INVALID_BUILD_CUSTOMIZATION` naming the problem.
 */
export function defineBuildCustomization(customization: BuildCustomization): BuildCustomization {
  return Object.freeze(validateBuildCustomization(customization));
}
