import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ImageRecipe, describe as describeValue } from "@airbyte-ci/base-images";
import { HooksError, validateBuildCustomization, type BuildCustomization, type BuildHook, type HookContext } from "@airbyte-ci/hooks";
import { createJiti } from "jiti";
import { ConnectorBuildError } from "../errors.ts";

/** File names a connector's customisation may have, in lookup order. */
export const BUILD_CUSTOMIZATION_FILES = ["build_customization.ts", "build_customization.mts", "build_customization.js", "build_customization.mjs"] as const;

/** A loaded customisation and the file it came from. */
export interface LoadedCustomization {
  readonly file: string | undefined;
  readonly customization: BuildCustomization;
}

function resolvePackage(specifier: string): string {
  // The hook file imports @airbyte-ci/hooks; it resolves to the copy this CLI ships with, so
  // connectors need no node_modules of their own.
  if (typeof import.meta.resolve === "function") return fileURLToPath(import.meta.resolve(specifier));
  // Runners without import.meta.resolve (vitest): the package's built entry, else its source.
  const dir = dirname(createRequire(import.meta.url).resolve(`${specifier}/package.json`));
  const built = join(dir, "dist/index.js");
  return existsSync(built) ? built : join(dir, "src/index.ts");
}

/** Finds and loads `build_customization.{ts,mts,js,mjs}` beside metadata.yaml; no compile step. */
export async function loadBuildCustomization(connectorDir: string, technicalName: string): Promise<LoadedCustomization> {
  const found = BUILD_CUSTOMIZATION_FILES.map((f) => join(connectorDir, f)).filter((f) => existsSync(f));
  if (found.length === 0) return { file: undefined, customization: {} };
  if (found.length > 1) {
    throw new ConnectorBuildError(
      "HOOK_FAILED",
      `connector ${technicalName}: several build customization files (${found.map((f) => f.slice(connectorDir.length + 1)).join(", ")}): expected one`,
    );
  }
  const file = found[0] as string;
  let loaded: unknown;
  try {
    const jiti = createJiti(import.meta.url, {
      alias: { "@airbyte-ci/hooks": resolvePackage("@airbyte-ci/hooks"), "@airbyte-ci/base-images": resolvePackage("@airbyte-ci/base-images") },
      moduleCache: false,
      fsCache: false,
      interopDefault: true,
    });
    loaded = await jiti.import(file, { default: true });
  } catch (error) {
    throw new ConnectorBuildError(
      "HOOK_FAILED",
      `connector ${technicalName}: cannot load ${file}: ${firstLine(error)}`,
      { cause: error },
    );
  }
  if (typeof loaded !== "object" || loaded === null) {
    throw new ConnectorBuildError(
      "HOOK_FAILED",
      `connector ${technicalName}: ${file} must export default defineBuildCustomization({...}), but its default export is ${describeValue(loaded)}`,
    );
  }
  try {
    return { file, customization: validateBuildCustomization(loaded, `connector ${technicalName}: ${file}`) };
  } catch (error) {
    if (HooksError.isInstance(error)) throw new ConnectorBuildError("HOOK_FAILED", error.message, { cause: error });
    throw error;
  }
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n").slice(0, 3).join(" ").trim();
}

/** Runs one hook; anything but a recipe back is an error naming the connector, file and hook. */
export async function runHook(
  name: "preConnectorInstall" | "postConnectorInstall",
  hook: BuildHook | undefined,
  recipe: ImageRecipe,
  context: HookContext,
  file: string | undefined,
): Promise<ImageRecipe> {
  if (!hook) return recipe;
  const where = `connector ${context.connector.technicalName}: ${file ?? "build customization"}: hook ${name}`;
  let result: unknown;
  try {
    result = await hook(recipe, context);
  } catch (error) {
    throw new ConnectorBuildError("HOOK_FAILED", `${where} threw: ${firstLine(error)}`, { cause: error });
  }
  if (!ImageRecipe.isInstance(result)) {
    throw new ConnectorBuildError("HOOK_FAILED", `${where} returned ${describeValue(result)}: expected the recipe (an ImageRecipe) it was given, extended`);
  }
  return result;
}
