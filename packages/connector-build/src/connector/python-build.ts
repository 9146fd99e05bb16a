import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { BaseImageCatalog, BaseImageVersion, ImageRecipe, Platform } from "@airbyte-ci/base-images";
import type { HookContext } from "@airbyte-ci/hooks";
import { ConnectorBuildError } from "../errors.ts";
import { readConnectorMetadata, type ConnectorMetadata } from "./metadata.ts";
import { loadBuildCustomization, runHook, type LoadCustomizationOptions, type LoadedCustomization } from "./build-customization.ts";

/** Where connector code lives in every image. */
export const CONNECTOR_CODE_DIR = "/airbyte/integration_code";
/** Dependency manifests copied before the install layer, in order, when they exist. */
export const DEPENDENCY_MANIFESTS = ["setup.py", "pyproject.toml", "poetry.lock", "requirements.txt", "README.md"] as const;

/** A connector ready to build: its metadata, base image version and customisation. */
export interface PreparedConnector {
  readonly metadata: ConnectorMetadata;
  readonly baseImage: BaseImageVersion;
  readonly customization: LoadedCustomization;
  /** The file the entrypoint runs. */
  readonly mainFileName: string;
  /** The Python package directory (`source_hello` for `source-hello`). */
  readonly packageDir: string;
}

/** Reads metadata, resolves the base image against the catalog, loads hooks, checks the code layout. */
export async function prepareConnector(dir: string, catalog: BaseImageCatalog, options: LoadCustomizationOptions = {}): Promise<PreparedConnector> {
  const metadata = await readConnectorMetadata(dir);
  if (!metadata.baseImage) {
    throw new ConnectorBuildError(
      "INVALID_METADATA",
      `${metadata.metadataPath}: data.connectorBuildOptions.baseImage is missing: expected the full address of a base image, e.g. ${
        catalog.latestStable()?.publishedAddress ?? `${catalog.repository}:<version>@sha256:…`
      } (connector-build bump-base sets it)`,
    );
  }
  const baseImage = catalog.resolveAddress(metadata.baseImage, `${metadata.metadataPath} data.connectorBuildOptions.baseImage`);
  const customization = await loadBuildCustomization(metadata.dir, metadata.technicalName, options);
  const mainFileName = customization.customization.mainFileName ?? "main.py";
  const packageDir = metadata.technicalName.replaceAll("-", "_");
  const mainPath = join(metadata.dir, mainFileName);
  if (!existsSync(mainPath) || !statSync(mainPath).isFile()) {
    throw new ConnectorBuildError("INVALID_CONNECTOR", `connector ${metadata.technicalName}: main file ${mainPath} does not exist: expected the file the entrypoint runs (${mainFileName})`);
  }
  const pkg = join(metadata.dir, packageDir);
  if (!existsSync(pkg) || !statSync(pkg).isDirectory()) {
    throw new ConnectorBuildError("INVALID_CONNECTOR", `connector ${metadata.technicalName}: package directory ${pkg} does not exist: expected the Python package ${packageDir}/`);
  }
  const manifests = DEPENDENCY_MANIFESTS.filter((f) => existsSync(join(metadata.dir, f)));
  if (!manifests.some((m) => m === "setup.py" || m === "requirements.txt" || m === "pyproject.toml")) {
    throw new ConnectorBuildError(
      "INVALID_CONNECTOR",
      `connector ${metadata.technicalName}: no dependency manifest in ${metadata.dir}: expected setup.py, requirements.txt or pyproject.toml (with poetry.lock)`,
    );
  }
  if (existsSync(join(metadata.dir, "pyproject.toml")) && !existsSync(join(metadata.dir, "poetry.lock")) && !existsSync(join(metadata.dir, "setup.py"))) {
    throw new ConnectorBuildError("INVALID_CONNECTOR", `connector ${metadata.technicalName}: pyproject.toml without poetry.lock: expected a poetry.lock so dependencies are pinned`);
  }
  return { metadata, baseImage, customization, mainFileName, packageDir };
}

/** The install steps for the manifests present: requirements.txt, then setup.py (pip) or poetry. */
function withDependencyInstall(recipe: ImageRecipe, manifests: readonly string[]): ImageRecipe {
  const pip = ["python", "-m", "pip", "install", "--disable-pip-version-check", "--no-build-isolation"];
  let r = recipe.withMountedCache("/root/.cache/pip", "pip-cache");
  if (manifests.includes("requirements.txt")) r = r.withExec([...pip, "-r", "requirements.txt"]);
  if (manifests.includes("setup.py")) {
    r = r.withExec([...pip, "."]);
  } else if (manifests.includes("pyproject.toml") && manifests.includes("poetry.lock")) {
    r = r
      .withExec(["poetry", "config", "virtualenvs.create", "false"])
      .withExec(["poetry", "install", "--only", "main", "--no-root", "--no-interaction"]);
  }
  return r.withoutMount("/root/.cache/pip");
}

/**
 * The common Python build, one recipe: base image → preConnectorInstall → workdir → dependency
 * manifests and their install in their own layer (a code-only change reuses it) → package and main
 * file → entrypoint and AIRBYTE_ENTRYPOINT → labels → postConnectorInstall.
 */
export async function pythonConnectorRecipe(connector: PreparedConnector, platform: Platform): Promise<ImageRecipe> {
  const { metadata, baseImage, customization, mainFileName, packageDir } = connector;
  const context: HookContext = {
    connector: { technicalName: metadata.technicalName, dockerRepository: metadata.dockerRepository, dockerImageTag: metadata.dockerImageTag },
    platform,
    baseImageVersion: baseImage.version,
  };
  const hooks = customization.customization;
  let recipe = baseImage.recipeFor(platform);
  recipe = await runHook("preConnectorInstall", hooks.preConnectorInstall, recipe, context, customization.file);
  recipe = recipe.withWorkdir(CONNECTOR_CODE_DIR);
  const manifests = DEPENDENCY_MANIFESTS.filter((f) => existsSync(join(metadata.dir, f)));
  for (const manifest of manifests) recipe = recipe.withFile(manifest, manifest);
  recipe = withDependencyInstall(recipe, manifests);
  const entrypoint = ["python", `${CONNECTOR_CODE_DIR}/${mainFileName}`];
  recipe = recipe
    .withDirectory(packageDir, packageDir)
    .withFile(mainFileName, mainFileName)
    .withEnvVariable("AIRBYTE_ENTRYPOINT", entrypoint.join(" "))
    .withEntrypoint(entrypoint)
    .withLabel("io.airbyte.version", metadata.dockerImageTag)
    .withLabel("io.airbyte.name", metadata.dockerRepository);
  return runHook("postConnectorInstall", hooks.postConnectorInstall, recipe, context, customization.file);
}
