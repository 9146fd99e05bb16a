import {
  parseImageAddress,
  splitImageReference,
  type BaseImageCatalog,
  type BaseImageVersion,
  type Platform,
} from "@airbyte-ci/base-images";
import { ConnectorBuildError } from "../errors.ts";
import type { PublishAnnotations } from "../engines/engine.ts";
import { RegistryClient } from "../registry/registry-client.ts";
import { formatImagePlatform, platformMatches } from "../registry/platforms.ts";
import { RegistryError } from "../registry/registry-error.ts";

/** OCI's key for the reference of the image an image is built on (label and manifest annotation). */
export const BASE_NAME_KEY = "org.opencontainers.image.base.name";
/** OCI's key for the digest of the image an image is built on (label and manifest annotation). */
export const BASE_DIGEST_KEY = "org.opencontainers.image.base.digest";

/**
 * A base image version as its registry holds it: what a connector image is built FROM. The build
 * starts from {@link address} (the multi-platform index, pinned by digest) and the engine picks the
 * platform's manifest; {@link platformDigests} are those manifests, read from the index.
 */
export interface PublishedBaseImage {
  /** The catalog version. */
  readonly version: string;
  /** `registry/repository:tag`, without digest: the value of `org.opencontainers.image.base.name`. */
  readonly name: string;
  /** `registry/repository:tag@sha256:…`: the digest-pinned index the build starts from. */
  readonly address: string;
  /** Digest of the index (of the manifest, for a single-platform base). */
  readonly digest: string;
  /** Digest of each platform's manifest in the index. */
  readonly platformDigests: Readonly<Partial<Record<Platform, string>>>;
}

function publishHint(version: string, catalogRef: string | undefined): string {
  const catalog = catalogRef ? ` --catalog ${catalogRef}` : " --catalog <catalog>";
  return `publish it first: connector-build base publish ${version}${catalog} (builds, checks and publishes that version and records its digest), or release a new version with connector-build base release${catalog} --bump <bump> --changelog "…"`;
}

/**
 * Resolves a connector's `baseImage` address against the catalog, like
 * {@link BaseImageCatalog.resolveAddress}, with one more refusal made clear: a version that is in
 * the catalog but not published yet is BASE_IMAGE_UNPUBLISHED, and the message says how to publish
 * it. `catalogRef` is how the user named the catalog (`local`, a path), for that hint.
 */
export function resolveConnectorBaseImage(catalog: BaseImageCatalog, reference: string, where: string, catalogRef?: string): BaseImageVersion {
  const address = parseImageAddress(reference, where);
  const candidate = catalog.find(address.tag);
  const repo = splitImageReference(catalog.repository);
  const sameRepository = address.registry === repo.registry && address.repository === repo.repository;
  if (sameRepository && candidate && !candidate.published && !catalog.versions.some((v) => v.published?.address.digest === address.digest)) {
    throw new ConnectorBuildError(
      "BASE_IMAGE_UNPUBLISHED",
      `${where}: base image ${candidate.version} (${reference}) is in the ${catalog.name} catalog but not published: a connector image starts FROM the published base image; ${publishHint(candidate.version, catalogRef)}`,
    );
  }
  return catalog.resolveAddress(reference, where);
}

/**
 * Reads the published index of a base image version from its registry: checks the registry still
 * holds the catalog's digest and that it has a manifest for every platform asked. A base recorded as
 * published but missing from the registry is BASE_IMAGE_UNPUBLISHED (publish it again); a registry
 * that cannot be reached is REGISTRY_ERROR.
 */
export async function resolvePublishedBase(
  version: BaseImageVersion,
  platforms: readonly Platform[],
  options: { client?: RegistryClient; catalogRef?: string } = {},
): Promise<PublishedBaseImage> {
  const published = version.published;
  const address = version.publishedAddress;
  if (!published || !address) {
    throw new ConnectorBuildError("BASE_IMAGE_UNPUBLISHED", `base image ${version.version} is not published: ${publishHint(version.version, options.catalogRef)}`);
  }
  const name = `${published.address.registry}/${published.address.repository}:${published.address.tag}`;
  const client = options.client ?? new RegistryClient();
  let fetched;
  try {
    fetched = await client.getManifest(address);
  } catch (error) {
    if (error instanceof RegistryError && error.status === 404) {
      throw new ConnectorBuildError(
        "BASE_IMAGE_UNPUBLISHED",
        `base image ${version.version} is recorded as published at ${address}, but the registry does not have it: ${publishHint(version.version, options.catalogRef).replace("publish it first: connector-build base publish", "publish it again: connector-build base publish").replace(" (builds", " --force (builds")}`,
        { cause: error },
      );
    }
    throw error;
  }
  const platformDigests: Partial<Record<Platform, string>> = {};
  if (fetched.kind === "index") {
    for (const platform of platforms) {
      const entry = fetched.manifest.manifests.find((m) => m.platform !== undefined && platformMatches(m.platform, platform));
      if (!entry) {
        const has = fetched.manifest.manifests.flatMap((m) => (m.platform ? [formatImagePlatform(m.platform)] : [])).join(", ");
        throw new ConnectorBuildError(
          "BASE_IMAGE_UNPUBLISHED",
          `base image ${version.version} (${address}) has no ${platform} manifest: it holds ${has || "none"}: expected every platform the connector is built for`,
        );
      }
      platformDigests[platform] = entry.digest;
    }
  } else {
    // A single-platform image: its platform is in its config.
    const actual = await client.configPlatform(fetched);
    for (const platform of platforms) {
      if (!platformMatches(actual, platform)) {
        throw new ConnectorBuildError(
          "BASE_IMAGE_UNPUBLISHED",
          `base image ${version.version} (${address}) is a single ${formatImagePlatform(actual)} image: expected a ${platform} manifest`,
        );
      }
      platformDigests[platform] = fetched.digest;
    }
  }
  return { version: version.version, name, address, digest: fetched.digest, platformDigests };
}

/**
 * The OCI base image labels of a connector image for one platform. The digest is that platform's
 * manifest in the base index, not the index: it names the exact layers the image starts with (what a
 * rebase swaps), and an image config is per platform anyway.
 */
export function baseImageLabels(base: PublishedBaseImage, platform: Platform): Record<string, string> {
  const digest = base.platformDigests[platform];
  if (digest === undefined) throw new ConnectorBuildError("BUILD_FAILED", `base image ${base.version}: no ${platform} manifest was resolved`);
  return { [BASE_NAME_KEY]: base.name, [BASE_DIGEST_KEY]: digest };
}

/**
 * The same as annotations on what a registry output publishes: each platform's manifest carries its
 * labels' values; the index carries the base's name and the base index digest (index for index).
 */
export function baseImageAnnotations(base: PublishedBaseImage, platforms: readonly Platform[]): PublishAnnotations {
  const perPlatform: Partial<Record<Platform, Record<string, string>>> = {};
  for (const platform of platforms) perPlatform[platform] = baseImageLabels(base, platform);
  return { index: { [BASE_NAME_KEY]: base.name, [BASE_DIGEST_KEY]: base.digest }, platforms: perPlatform };
}
