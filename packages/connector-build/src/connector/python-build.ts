import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ImageRecipe, type BaseImageCatalog, type BaseImageVersion, type Platform } from "@airbyte-ci/base-images";
import type { HookContext } from "@airbyte-ci/hooks";
import { ConnectorBuildError } from "../errors.ts";
import { readConnectorMetadata, type ConnectorMetadata } from "./metadata.ts";
import { loadBuildCustomization, runHook, type LoadCustomizationOptions, type LoadedCustomization } from "./build-customization.ts";
import { CONNECTOR_CODE_DIR, isPoetryNonPackageMode, readDependencyInputs, type DependencyInputs } from "./dependency-inputs.ts";
import { withConnectorPackage, withDependencyLayer, type Exec, type InstallStrategy } from "./dependency-install.ts";
import { indexSecretVariables } from "./pip-index.ts";
import { baseImageLabels, resolveConnectorBaseImage, resolvePublishedBase, type PublishedBaseImage } from "./published-base.ts";
import { endAsRuntimeUser, installAsRoot } from "./runtime-user.ts";

export { CONNECTOR_CODE_DIR } from "./dependency-inputs.ts";

/** A connector ready to build: its metadata, base image version and customisation. */
export interface PreparedConnector {
  readonly metadata: ConnectorMetadata;
  readonly baseImage: BaseImageVersion;
  readonly customization: LoadedCustomization;
  /** The file the entrypoint runs. */
  readonly mainFileName: string;
  /** The Python package directory (`source_hello` for `source-hello`). */
  readonly packageDir: string;
  /** The base image as its registry holds it; read by {@link pythonConnectorRecipe} when absent. */
  readonly publishedBase?: PublishedBaseImage;
  /** What the dependency install depends on (manifests, the dependency set, the lock), read once. */
  readonly dependencies: DependencyInputs;
}

/** The build's choices for one recipe. */
export interface RecipeOptions {
  /** Where dependencies come from and which installer runs. Default: `{ kind: "index" }` (uv, PyPI or the index settings). */
  readonly install?: InstallStrategy;
  /** SOURCE_DATE_EPOCH for every step after FROM (reproducible builds). Default: none. */
  readonly epoch?: number;
}

/**
 * Reads metadata, resolves the base image against the catalog (it must be published: a version
 * only recorded is BASE_IMAGE_UNPUBLISHED), loads hooks, checks the code layout. `catalogRef` is
 * how the user named the catalog, for error hints.
 */
export async function prepareConnector(dir: string, catalog: BaseImageCatalog, options: LoadCustomizationOptions & { catalogRef?: string } = {}): Promise<PreparedConnector> {
  const metadata = await readConnectorMetadata(dir);
  if (!metadata.baseImage) {
    throw new ConnectorBuildError(
      "INVALID_METADATA",
      `${metadata.metadataPath}: data.connectorBuildOptions.baseImage is missing: expected the full address of a base image, e.g. ${
        catalog.latestStable()?.publishedAddress ?? `${catalog.repository}:<version>@sha256:…`
      } (${
        existsSync(join(metadata.dir, "Dockerfile"))
          ? `the connector still has a Dockerfile: connector-build migrate ${metadata.dir} moves it to the common build and sets it`
          : "connector-build bump-base sets it"
      })`,
    );
  }
  const baseImage = resolveConnectorBaseImage(catalog, metadata.baseImage, `${metadata.metadataPath} data.connectorBuildOptions.baseImage`, options.catalogRef);
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
  const dependencies = readDependencyInputs(metadata.dir);
  const manifests = dependencies.manifests;
  if (!manifests.some((m) => m === "setup.py" || m === "requirements.txt" || m === "pyproject.toml")) {
    throw new ConnectorBuildError(
      "INVALID_CONNECTOR",
      `connector ${metadata.technicalName}: no dependency manifest in ${metadata.dir}: expected setup.py, requirements.txt or pyproject.toml (with poetry.lock)`,
    );
  }
  if (existsSync(join(metadata.dir, "pyproject.toml")) && !existsSync(join(metadata.dir, "poetry.lock")) && !existsSync(join(metadata.dir, "setup.py"))) {
    throw new ConnectorBuildError("INVALID_CONNECTOR", `connector ${metadata.technicalName}: pyproject.toml without poetry.lock: expected a poetry.lock so dependencies are pinned`);
  }
  return { metadata, baseImage, customization, mainFileName, packageDir, dependencies };
}

/**
 * The common Python build, one recipe: FROM the published base image (its digest-pinned index; the
 * engine takes the platform's manifest, so the image's first layers are the base's) →
 * preConnectorInstall → workdir → dependency manifests and their install in their own layer (a
 * code-only change reuses it) → package and main file (and, for a Poetry project, the package
 * installed once) → entrypoint and AIRBYTE_ENTRYPOINT → labels (OCI base image labels included) →
 * postConnectorInstall. The base recipe is never replayed here: it ran when the base was built. On a
 * non-root base (2.0.0) the build runs as root and ends as the base's user (see runtime-user.ts).
 */
export async function pythonConnectorRecipe(connector: PreparedConnector, platform: Platform, options: RecipeOptions = {}): Promise<ImageRecipe> {
  return (await pythonConnectorBuild(connector, platform, options)).recipe;
}

/** A connector's recipe for one platform, and how many of its first operations make its dependency layer. */
export interface ConnectorRecipe {
  readonly recipe: ImageRecipe;
  /**
   * The number of leading operations that end with the dependency layer (0 when it has none): two
   * recipes whose first `dependencyPrefix` operations are equal build that layer once, the second
   * from the engine's cache.
   */
  readonly dependencyPrefix: number;
}

/** {@link pythonConnectorRecipe}, with where its dependency layer ends. */
export async function pythonConnectorBuild(connector: PreparedConnector, platform: Platform, options: RecipeOptions = {}): Promise<ConnectorRecipe> {
  const { metadata, baseImage, customization, mainFileName, packageDir, dependencies } = connector;
  const context: HookContext = {
    connector: { technicalName: metadata.technicalName, dockerRepository: metadata.dockerRepository, dockerImageTag: metadata.dockerImageTag },
    platform,
    baseImageVersion: baseImage.version,
  };
  const install = options.install ?? { kind: "index" };
  const epoch = options.epoch;
  const exec: Exec = (r, args) => r.withExec(epoch === undefined ? args : ["env", `SOURCE_DATE_EPOCH=${epoch}`, ...args]);
  const hooks = customization.customization;
  const base = connector.publishedBase ?? (await resolvePublishedBase(baseImage, [platform]));
  let recipe = installAsRoot(ImageRecipe.empty().from(base.address), baseImage);
  if (install.kind === "index") recipe = recipe.concat(indexSecretVariables(install.index));
  recipe = withEpoch(await runHook("preConnectorInstall", hooks.preConnectorInstall, recipe, context, customization.file), recipe, epoch);
  recipe = recipe.withWorkdir(CONNECTOR_CODE_DIR);
  const beforeDependencies = recipe.operations.length;
  recipe = withDependencyLayer(recipe, dependencies, platform, install, exec);
  const dependencyPrefix = recipe.operations.length > beforeDependencies && dependencies.set.kind !== "connector" ? recipe.operations.length : 0;
  const manifestsCopied = install.kind === "wheelhouse" || dependencies.set.kind === "connector";
  if (!manifestsCopied) for (const manifest of dependencies.manifests) recipe = recipe.withFile(manifest, manifest);
  const entrypoint = ["python", `${CONNECTOR_CODE_DIR}/${mainFileName}`];
  recipe = recipe.withDirectory(packageDir, packageDir).withFile(mainFileName, mainFileName);
  const poetryPackageMode = dependencies.selfInstall === "poetry-root" && !isPoetryNonPackageMode(readFileSync(join(metadata.dir, "pyproject.toml"), "utf8"));
  recipe = withConnectorPackage(recipe, dependencies, platform, install, exec, poetryPackageMode);
  recipe = recipe
    .withEnvVariable("AIRBYTE_ENTRYPOINT", entrypoint.join(" "))
    .withEntrypoint(entrypoint)
    .withLabel("io.airbyte.version", metadata.dockerImageTag)
    .withLabel("io.airbyte.name", metadata.dockerRepository);
  for (const [name, value] of Object.entries(baseImageLabels(base, platform))) recipe = recipe.withLabel(name, value);
  const finished = withEpoch(await runHook("postConnectorInstall", hooks.postConnectorInstall, recipe, context, customization.file), recipe, epoch);
  return { recipe: endAsRuntimeUser({ installed: recipe, finished, base: baseImage, codeDir: CONNECTOR_CODE_DIR }), dependencyPrefix };
}

/** The operations a hook appended to `before`, with SOURCE_DATE_EPOCH on their execs when the build is reproducible. */
function withEpoch(after: ImageRecipe, before: ImageRecipe, epoch: number | undefined): ImageRecipe {
  if (epoch === undefined) return after;
  const kept = before.operations.length;
  const prefix = after.operations.slice(0, kept);
  const added = after.operations.slice(kept).map((op) => (op.op === "withExec" ? { ...op, args: ["env", `SOURCE_DATE_EPOCH=${epoch}`, ...op.args] } : op));
  return ImageRecipe.fromOperations([...prefix, ...added], "recipe with hook steps");
}
