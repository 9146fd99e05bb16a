import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ImageRecipe, type BaseImageCatalog, type BaseImageVersion, type Platform } from "@airbyte-ci/base-images";
import type { HookContext } from "@airbyte-ci/hooks";
import { ConnectorBuildError } from "../errors.ts";
import { readConnectorMetadata, type ConnectorMetadata } from "./metadata.ts";
import { loadBuildCustomization, runHook, type LoadCustomizationOptions, type LoadedCustomization } from "./build-customization.ts";
import { withPoetryDependencies, withPoetryRootPackage } from "./poetry-install.ts";
import { baseImageLabels, resolveConnectorBaseImage, resolvePublishedBase, type PublishedBaseImage } from "./published-base.ts";
import { requirementsOnlyNameTheConnector } from "./requirements-file.ts";
import { endAsRuntimeUser, installAsRoot } from "./runtime-user.ts";

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
  /** The base image as its registry holds it; read by {@link pythonConnectorRecipe} when absent. */
  readonly publishedBase?: PublishedBaseImage;
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
  } else if (isPoetryProject(manifests)) {
    r = withPoetryDependencies(r);
  }
  return r.withoutMount("/root/.cache/pip");
}

function isPoetryProject(manifests: readonly string[]): boolean {
  return !manifests.includes("setup.py") && manifests.includes("pyproject.toml") && manifests.includes("poetry.lock");
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
export async function pythonConnectorRecipe(connector: PreparedConnector, platform: Platform): Promise<ImageRecipe> {
  const { metadata, baseImage, customization, mainFileName, packageDir } = connector;
  const context: HookContext = {
    connector: { technicalName: metadata.technicalName, dockerRepository: metadata.dockerRepository, dockerImageTag: metadata.dockerImageTag },
    platform,
    baseImageVersion: baseImage.version,
  };
  const hooks = customization.customization;
  const base = connector.publishedBase ?? (await resolvePublishedBase(baseImage, [platform]));
  let recipe = installAsRoot(ImageRecipe.empty().from(base.address), baseImage);
  recipe = await runHook("preConnectorInstall", hooks.preConnectorInstall, recipe, context, customization.file);
  recipe = recipe.withWorkdir(CONNECTOR_CODE_DIR);
  const present = DEPENDENCY_MANIFESTS.filter((f) => existsSync(join(metadata.dir, f)));
  // A requirements.txt of only `-e .` means "install this connector": its setup.py or pyproject says how, once.
  const selfOnly =
    present.includes("requirements.txt") &&
    (present.includes("setup.py") || present.includes("pyproject.toml")) &&
    requirementsOnlyNameTheConnector(readFileSync(join(metadata.dir, "requirements.txt"), "utf8"));
  const manifests = selfOnly ? present.filter((f) => f !== "requirements.txt") : present;
  for (const manifest of manifests) recipe = recipe.withFile(manifest, manifest);
  recipe = withDependencyInstall(recipe, manifests);
  const entrypoint = ["python", `${CONNECTOR_CODE_DIR}/${mainFileName}`];
  recipe = recipe
    .withDirectory(packageDir, packageDir)
    .withFile(mainFileName, mainFileName);
  if (isPoetryProject(manifests)) recipe = withPoetryRootPackage(recipe, readFileSync(join(metadata.dir, "pyproject.toml"), "utf8"));
  recipe = recipe
    .withEnvVariable("AIRBYTE_ENTRYPOINT", entrypoint.join(" "))
    .withEntrypoint(entrypoint)
    .withLabel("io.airbyte.version", metadata.dockerImageTag)
    .withLabel("io.airbyte.name", metadata.dockerRepository);
  for (const [name, value] of Object.entries(baseImageLabels(base, platform))) recipe = recipe.withLabel(name, value);
  const finished = await runHook("postConnectorInstall", hooks.postConnectorInstall, recipe, context, customization.file);
  return endAsRuntimeUser({ installed: recipe, finished, base: baseImage, codeDir: CONNECTOR_CODE_DIR });
}
