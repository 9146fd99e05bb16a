import type { ImageRecipe, Platform } from "@airbyte-ci/base-images";

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
 */
export function defineBuildCustomization(customization: BuildCustomization): BuildCustomization {
  if (typeof customization !== "object" || customization === null) {
    throw new TypeError("defineBuildCustomization: expected an object with mainFileName, preConnectorInstall or postConnectorInstall");
  }
  for (const key of Object.keys(customization)) {
    if (!KNOWN_KEYS.has(key)) {
      throw new TypeError(
        `defineBuildCustomization: unknown key '${key}': expected mainFileName, preConnectorInstall or postConnectorInstall`,
      );
    }
  }
  const { mainFileName, preConnectorInstall, postConnectorInstall } = customization;
  if (mainFileName !== undefined && (typeof mainFileName !== "string" || !/^[A-Za-z0-9_.-]+\.py$/.test(mainFileName))) {
    throw new TypeError(`defineBuildCustomization: mainFileName must be a Python file name such as main.py, got ${JSON.stringify(mainFileName)}`);
  }
  for (const [name, hook] of [["preConnectorInstall", preConnectorInstall], ["postConnectorInstall", postConnectorInstall]] as const) {
    if (hook !== undefined && typeof hook !== "function") {
      throw new TypeError(`defineBuildCustomization: ${name} must be a function (recipe, context) => recipe, got ${typeof hook}`);
    }
  }
  return Object.freeze({ ...customization });
}
