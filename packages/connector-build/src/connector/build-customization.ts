import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ImageRecipe, describe as describeValue } from "@airbyte-ci/base-images";
import type { BuildCustomization, BuildHook, HookContext } from "@airbyte-ci/hooks";
import { isDeepStrictEqual } from "node:util";
import { DEFAULT_HOOK_TIMEOUT_MS, runHookTask } from "./hook-runner.ts";
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

/** Options of {@link loadBuildCustomization}. */
export interface LoadCustomizationOptions {
  /** Milliseconds loading the file, and each hook, may take. Default {@link DEFAULT_HOOK_TIMEOUT_MS}. */
  readonly hookTimeoutMs?: number;
}

/**
 * Finds `build_customization.{ts,mts,js,mjs}` beside metadata.yaml and loads it in a worker thread
 * ({@link runHookTask}); no compile step. The hooks returned run there too, one worker per call:
 * the file never runs in the CLI's own thread.
 */
export async function loadBuildCustomization(connectorDir: string, technicalName: string, options: LoadCustomizationOptions = {}): Promise<LoadedCustomization> {
  const found = BUILD_CUSTOMIZATION_FILES.map((f) => join(connectorDir, f)).filter((f) => existsSync(f));
  if (found.length === 0) return { file: undefined, customization: {} };
  if (found.length > 1) {
    throw new ConnectorBuildError(
      "HOOK_FAILED",
      `connector ${technicalName}: several build customization files (${found.map((f) => f.slice(connectorDir.length + 1)).join(", ")}): expected one`,
    );
  }
  const file = found[0] as string;
  const timeoutMs = options.hookTimeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS;
  const alias = { "@airbyte-ci/hooks": resolvePackage("@airbyte-ci/hooks"), "@airbyte-ci/base-images": resolvePackage("@airbyte-ci/base-images") };
  const loaded = await runHookTask(file, alias, { kind: "load", where: `connector ${technicalName}: ${file}` }, timeoutMs);
  if (loaded.kind !== "loaded") throw new ConnectorBuildError("HOOK_FAILED", `connector ${technicalName}: ${file}: could not be loaded`);
  const inWorker =
    (hook: "preConnectorInstall" | "postConnectorInstall"): BuildHook =>
    async (recipe, context) => {
      const where = `connector ${technicalName}: ${file}: hook ${hook}`;
      const context_: HookContext = { connector: { ...context.connector }, platform: context.platform, baseImageVersion: context.baseImageVersion };
      const reply = await runHookTask(file, alias, { kind: "run", where, hook, operations: recipe.operations, context: context_ }, timeoutMs);
      if (reply.kind !== "recipe") throw new ConnectorBuildError("HOOK_FAILED", `${where}: returned no recipe`);
      try {
        return ImageRecipe.fromOperations(reply.operations, where);
      } catch (error) {
        throw new ConnectorBuildError("HOOK_FAILED", `${where} returned an invalid recipe: ${firstLine(error)}`, { cause: error });
      }
    };
  const customization: BuildCustomization = {
    ...(loaded.mainFileName !== undefined ? { mainFileName: loaded.mainFileName } : {}),
    ...(loaded.hooks.includes("preConnectorInstall") ? { preConnectorInstall: inWorker("preConnectorInstall") } : {}),
    ...(loaded.hooks.includes("postConnectorInstall") ? { postConnectorInstall: inWorker("postConnectorInstall") } : {}),
  };
  return { file, customization };
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n").slice(0, 3).join(" ").trim();
}

/**
 * Runs one hook; anything but the recipe it was given, extended, is an error naming the connector,
 * file and hook. A hook may add operations but not change or drop those it received, nor start
 * from another image (`from`): the base (and its platform) is the catalog's.
 */
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
    if (ConnectorBuildError.isInstance(error) && error.code === "HOOK_FAILED") throw error;
    throw new ConnectorBuildError("HOOK_FAILED", `${where} threw: ${firstLine(error)}`, { cause: error });
  }
  if (!ImageRecipe.isInstance(result)) {
    throw new ConnectorBuildError("HOOK_FAILED", `${where} returned ${describeValue(result)}: expected the recipe (an ImageRecipe) it was given, extended`);
  }
  const given = recipe.operations;
  const changed = given.findIndex((op, i) => !isDeepStrictEqual(op, result.operations[i]));
  if (changed >= 0) {
    throw new ConnectorBuildError("HOOK_FAILED", `${where} changed or dropped operation ${changed} (${given[changed]?.op}) of the recipe it was given: expected the recipe extended, never rewritten`);
  }
  const from = result.operations.findIndex((op, i) => i >= given.length && op.op === "from");
  if (from >= 0) {
    throw new ConnectorBuildError(
      "HOOK_FAILED",
      `${where} called from(...) (operation ${from}): a hook may not change the base image; expected the recipe extended on the catalog's base`,
    );
  }
  return result;
}
