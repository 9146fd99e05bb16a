import semver from "semver";
import { formatImageAddress, parseRootImage, type BaseImageCatalog, type BaseImageVersion, type BaseImageVersionData, type Platform } from "@airbyte-ci/base-images";
import { ConnectorBuildError } from "../errors.ts";

/** Semver bumps a release can make. */
export type ReleaseBump = "major" | "minor" | "patch" | "prerelease";

/** The next version of a release: `prerelease` bumps an rc (1.1.0 → 1.1.1-rc.0, 1.1.1-rc.0 → 1.1.1-rc.1). */
export function nextVersion(catalog: BaseImageCatalog, bump: ReleaseBump): string {
  const latest = catalog.latest();
  if (!latest) throw new ConnectorBuildError("RELEASE_REFUSED", `the ${catalog.name} catalog has no version to release from: expected at least one recorded version`);
  const next = bump === "prerelease" ? semver.inc(latest.version, "prerelease", "rc") : semver.inc(latest.version, bump);
  if (!next) throw new ConnectorBuildError("RELEASE_REFUSED", `cannot bump ${latest.version} by ${bump}`);
  return next;
}

/**
 * The definition of the next version: the latest version's recipe, checks and root images, with
 * version-valued labels and checks following the new version, and root images replaced where given.
 */
export function deriveVersion(
  from: BaseImageVersion,
  version: string,
  changelog: string,
  rootImages: Partial<Record<Platform, string>> = {},
): BaseImageVersionData {
  const old = from.version;
  const recipe = from.data.recipe.map((op) => (op.op === "withLabel" && op.value === old ? { ...op, value: version } : op));
  const sanityChecks = from.data.sanityChecks.map((c) => (c.kind === "label" && c.value === old ? { ...c, value: version } : c));
  const roots: Record<string, string> = { ...from.data.rootImages };
  for (const [platform, address] of Object.entries(rootImages)) {
    roots[platform] = formatImageAddress(parseRootImage(address, platform, `--root-image ${platform}`));
  }
  if (changelog.trim() === "") throw new ConnectorBuildError("USAGE", "--changelog is empty: expected a sentence saying what changed");
  return { version, changelog: changelog.trim(), rootImages: roots, recipe, sanityChecks };
}
