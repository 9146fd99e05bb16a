/**
 * What `rebase` reads before it changes anything: the published connector image (index or single
 * manifest, every platform's manifest and config), the catalog base versions' platform images, and
 * which catalog version an image was built on (its base labels, else its layers).
 */
import { isPlatform, splitImageReference, type BaseImageCatalog, type BaseImageVersion, type Platform } from "@airbyte-ci/base-images";
import { ConnectorBuildError } from "../errors.ts";
import type { FetchedManifest, RegistryClient } from "../registry/registry-client.ts";
import { parseImageConfig } from "./image-config.ts";
import { baseMismatch, type PlatformImage } from "./rebase-image.ts";
import type { ImageManifest } from "../registry/oci-types.ts";
import { BASE_DIGEST_KEY, BASE_NAME_KEY } from "../connector/published-base.ts";
import { platformMatches } from "../registry/platforms.ts";

/** A published connector image as `rebase` read it. */
export interface SourceImage {
  readonly reference: string;
  readonly registry: string;
  readonly repository: string;
  /** `registry/repository`. */
  readonly repo: string;
  /** The tag the rebased image is published under: `--tag`, else the reference's own. */
  readonly tag: string;
  /** The reference's own tag, when it has one. */
  readonly ownTag: string | undefined;
  readonly top: FetchedManifest;
  readonly platforms: ReadonlyArray<{ platform: Platform; fetched: FetchedManifest & { kind: "manifest" }; image: PlatformImage; entry?: Record<string, unknown> }>;
}

async function readPlatformImage(client: RegistryClient, repo: string, digest: string): Promise<{ fetched: FetchedManifest & { kind: "manifest" }; image: PlatformImage }> {
  const fetched = await client.getManifest(`${repo}@${digest}`);
  if (fetched.kind !== "manifest") throw new ConnectorBuildError("REBASE_REFUSED", `${repo}@${digest} is an index nested in an index: expected per-platform manifests`);
  const manifest = JSON.parse(Buffer.from(fetched.bytes).toString("utf8")) as ImageManifest;
  const config = parseImageConfig(await client.getBlob(repo, fetched.manifest.config.digest), `${repo}@${digest}`);
  return { fetched, image: { mediaType: fetched.mediaType, manifest, config } };
}

function platformOf(config: { os: string; architecture: string }): string {
  return `${config.os}/${config.architecture}`;
}

export async function readSource(client: RegistryClient, reference: string, tagOverride: string | undefined): Promise<SourceImage> {
  const parts = splitImageReference(reference);
  const tag = tagOverride ?? parts.tag;
  if (tag === undefined || tag === "") {
    throw new ConnectorBuildError("USAGE", `rebase ${reference}: no tag to publish the rebased image under: expected <registry>/<repository>:<tag>[@sha256:…] or --tag <tag>`);
  }
  const repo = `${parts.registry}/${parts.repository}`;
  const top = await client.getManifest(reference);
  const platforms: Array<SourceImage["platforms"][number]> = [];
  if (top.kind === "index") {
    for (const entry of top.manifest.manifests) {
      const p = entry.platform ? `${entry.platform.os}/${entry.platform.architecture}` : "unknown";
      if (!isPlatform(p)) continue; // attestation manifests (unknown/unknown) describe the old image: not carried over
      const { fetched, image } = await readPlatformImage(client, repo, entry.digest);
      platforms.push({ platform: p, fetched, image, entry: entry as unknown as Record<string, unknown> });
    }
  } else {
    const { fetched, image } = await readPlatformImage(client, repo, top.digest);
    const p = platformOf(image.config);
    if (!isPlatform(p)) throw new ConnectorBuildError("REBASE_REFUSED", `${reference} is a ${p} image: expected linux/amd64 or linux/arm64`);
    platforms.push({ platform: p, fetched, image });
  }
  if (platforms.length === 0) throw new ConnectorBuildError("REBASE_REFUSED", `${reference} holds no linux/amd64 or linux/arm64 image: nothing to rebase`);
  return { reference, registry: parts.registry, repository: parts.repository, repo, tag, ownTag: parts.tag === "" ? undefined : parts.tag, top, platforms };
}

/** A published base version's platform image, read from `repo` (where the image says it came from) or the catalog's repository. */
export async function readBaseImage(client: RegistryClient, version: BaseImageVersion, platform: Platform, repos: readonly string[]): Promise<{ repo: string; indexDigest: string; manifestDigest: string; image: PlatformImage }> {
  const digest = version.published?.address.digest;
  if (digest === undefined) throw new ConnectorBuildError("UNKNOWN_VERSION", `base image ${version.version} is not published: publish it first (connector-build base publish ${version.version})`);
  let lastError: unknown;
  for (const repo of [...new Set(repos)]) {
    try {
      const index = await client.getManifest(`${repo}@${digest}`);
      let manifestDigest = digest;
      if (index.kind === "index") {
        const entry = index.manifest.manifests.find((m) => m.platform !== undefined && platformMatches(m.platform, platform));
        if (!entry) throw new ConnectorBuildError("REBASE_REFUSED", `base image ${version.version} (${repo}@${digest}) has no ${platform} manifest: expected every platform of the image`);
        manifestDigest = entry.digest;
      }
      const { image } = await readPlatformImage(client, repo, manifestDigest);
      return { repo, indexDigest: digest, manifestDigest, image };
    } catch (error) {
      if (ConnectorBuildError.isInstance(error) && error.code === "REBASE_REFUSED") throw error;
      lastError = error;
    }
  }
  throw lastError;
}

export function labelsOf(image: PlatformImage): Record<string, string> {
  return image.config.config?.Labels ?? {};
}

/** The catalog version an image says it was built on, from its base labels (index or platform-manifest digest). */
export async function versionFromLabels(client: RegistryClient, catalog: BaseImageCatalog, source: SourceImage): Promise<{ version: BaseImageVersion; repo: string } | undefined> {
  const first = source.platforms[0]?.image as PlatformImage;
  const annotations = source.top.manifest.annotations ?? {};
  const digest = labelsOf(first)[BASE_DIGEST_KEY] ?? annotations[BASE_DIGEST_KEY];
  const name = labelsOf(first)[BASE_NAME_KEY] ?? annotations[BASE_NAME_KEY];
  if (digest === undefined) return undefined;
  const named = name !== undefined ? splitImageReference(name) : undefined;
  const repo = named !== undefined ? `${named.registry}/${named.repository}` : catalog.repository;
  const byIndex = catalog.versions.find((v) => v.published?.address.digest === digest);
  if (byIndex) return { version: byIndex, repo };
  // The label may hold the platform manifest's digest: look into each published index.
  for (const version of catalog.versions) {
    if (!version.published) continue;
    for (const r of [...new Set([repo, catalog.repository])]) {
      const index = await client.getManifest(`${r}@${version.published.address.digest}`).catch(() => undefined);
      if (index?.kind === "index" && index.manifest.manifests.some((m) => m.digest === digest)) return { version, repo: r };
    }
  }
  return undefined;
}

/** The catalog version whose layers are the longest prefix of the image's (for images without base labels). */
export async function versionFromLayers(client: RegistryClient, catalog: BaseImageCatalog, source: SourceImage): Promise<{ version: BaseImageVersion; repo: string } | undefined> {
  const { platform, image } = source.platforms[0] as SourceImage["platforms"][number];
  let best: { version: BaseImageVersion; repo: string; layers: number; labelsMatch: boolean } | undefined;
  let tie = false;
  for (const version of catalog.versions) {
    if (!version.published || !version.platforms.includes(platform)) continue;
    const base = await readBaseImage(client, version, platform, [catalog.repository]).catch(() => undefined);
    if (!base || baseMismatch(image, base.image) !== undefined) continue;
    const own = labelsOf(image);
    const labelsMatch = Object.entries(labelsOf(base.image)).every(([k, v]) => own[k] === v);
    const candidate = { version, repo: base.repo, layers: base.image.manifest.layers.length, labelsMatch };
    const better = best === undefined || candidate.layers > best.layers || (candidate.layers === best.layers && candidate.labelsMatch && !best.labelsMatch);
    if (better) {
      tie = false;
      best = candidate;
    } else if (candidate.layers === best?.layers && candidate.labelsMatch === best.labelsMatch) tie = true;
  }
  if (best !== undefined && tie) {
    throw new ConnectorBuildError(
      "REBASE_REFUSED",
      `${source.reference}: several base versions match its layers and it has no ${BASE_DIGEST_KEY} label: expected the label naming its base`,
    );
  }
  return best;
}

