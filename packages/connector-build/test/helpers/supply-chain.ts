// Helpers of the supply-chain tests (rebase, SBOM): a base image catalog of their own in the local
// registry, and connector images built FROM a published base index.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImageRecipe, parseCatalog, type BaseImageCatalog, type CatalogData, type Platform } from "@airbyte-ci/base-images";
import { prepareConnector, pythonConnectorRecipe } from "../../src/connector/python-build.ts";
import type { Engine, PublishResult } from "../../src/engines/engine.ts";
import { setBaseImageInYaml } from "../../src/connector/metadata-edit.ts";
import { RegistryClient } from "../../src/registry/registry-client.ts";
import { REPO_ROOT, localCatalog, testCatalog } from "../helpers.ts";
import { BASE_DIGEST_KEY, BASE_NAME_KEY } from "../../src/connector/published-base.ts";

/** A unique lowercase name for registry repositories of one test run. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/**
 * A catalog in a temporary folder publishing into `repository`, holding the local fixture's 1.0.0
 * (its index copied into `repository`, so the same digest) and whatever `mutate` adds.
 */
export async function supplyCatalog(repository: string, mutate: (data: CatalogData) => void = () => {}) {
  const local = localCatalog().get("1.0.0");
  if (!local.publishedAddress) throw new Error("the local catalog's 1.0.0 is not published: run scripts/bootstrap.sh");
  await new RegistryClient().copyManifest(local.publishedAddress, repository, "1.0.0");
  const catalog = testCatalog(repository, mutate);
  return { ...catalog, load: (): BaseImageCatalog => parseCatalog(JSON.parse(catalog.bytes()), catalog.path) };
}

/** The catalog data of a version derived from 1.0.0 (labels and label checks following `version`), unpublished. */
export function derivedVersion(data: CatalogData, version: string, extra: { recipe?: CatalogData["versions"][number]["recipe"]; sanityChecks?: CatalogData["versions"][number]["sanityChecks"] } = {}) {
  const from = data.versions.find((v) => v.version === "1.0.0");
  if (!from) throw new Error("no 1.0.0 in the catalog");
  return {
    version,
    changelog: `Test version ${version}.`,
    rootImages: { ...from.rootImages },
    recipe: [...from.recipe.map((op) => (op.op === "withLabel" && op.value === "1.0.0" ? { ...op, value: version } : op)), ...(extra.recipe ?? [])],
    sanityChecks: [...from.sanityChecks.map((c) => (c.kind === "label" && c.value === "1.0.0" ? { ...c, value: version } : c)), ...(extra.sanityChecks ?? [])],
  };
}

/** Copies an example connector to a temporary folder, pointing its metadata at `baseAddress` and tagging it `tag`. */
export function stageConnector(name: string, baseAddress: string, tag: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), "supply-connector-")), name);
  cpSync(join(REPO_ROOT, "examples", name), dir, { recursive: true });
  const path = join(dir, "metadata.yaml");
  writeFileSync(path, setBaseImageInYaml(readFileSync(path, "utf8"), baseAddress).replace(/dockerImageTag: .*/, `dockerImageTag: ${tag}`));
  return dir;
}

/**
 * Builds a connector with the common build, but starting FROM its published base index (not
 * replaying the base recipe), labelled with the base's name and digest, and publishes it as one
 * index at `reference`. Works whether or not the common build already starts FROM the base.
 */
export async function buildFromPublishedBase(engine: Engine, dir: string, catalog: BaseImageCatalog, platforms: readonly Platform[], reference: string): Promise<PublishResult> {
  const images = [];
  for (const platform of platforms) images.push(await engine.build({ recipe: await recipeFromPublishedBase(dir, catalog, platform), platform, contextDir: dir }));
  return engine.publish(images, reference);
}

/** The common build's recipe for a connector, starting FROM its published base index, with the base labels. */
export async function recipeFromPublishedBase(dir: string, catalog: BaseImageCatalog, platform: Platform): Promise<ImageRecipe> {
  const prepared = await prepareConnector(dir, catalog);
  const address = prepared.baseImage.publishedAddress as string;
  const full = await pythonConnectorRecipe(prepared, platform);
  const ops = full.operations;
  const first = ops[0];
  const connectorOps = first?.op === "from" && first.address === address ? ops.slice(1) : ops.slice(1 + prepared.baseImage.recipe.operations.length);
  let recipe = ImageRecipe.fromOperations([{ op: "from", address }, ...connectorOps], "test recipe");
  const labelled = (name: string) => connectorOps.some((op) => op.op === "withLabel" && op.name === name);
  if (!labelled(BASE_NAME_KEY)) recipe = recipe.withLabel(BASE_NAME_KEY, `${catalog.repository}:${prepared.baseImage.version}`);
  if (!labelled(BASE_DIGEST_KEY)) recipe = recipe.withLabel(BASE_DIGEST_KEY, prepared.baseImage.published?.address.digest as string);
  return recipe;
}
