/**
 * Where SBOMs go: beside the image in the registry, and beside `oci:` tarballs.
 *
 * Registry: the local registry (distribution 2.8) has no referrers API, so each SBOM is an OCI
 * artifact manifest (artifactType and layer `application/vnd.cyclonedx+json`, empty config, and a
 * `subject` naming the image for registries that do index referrers) tagged
 * `sha256-<hex of the image's digest>.sbom` in the image's repository: one per platform manifest
 * and one per index.
 */
import { writeFileSync } from "node:fs";
import { ImageRecipe, platformArchitecture, splitImageReference, type Platform } from "@airbyte-ci/base-images";
import type { BuiltImage, Engine } from "../engines/engine.ts";
import { ConnectorBuildError } from "../errors.ts";
import { RegistryClient, type FetchedManifest } from "../registry/registry-client.ts";
import { jsonBytes } from "./image-config.ts";
import { readImageContents, type ImageContents } from "./image-contents.ts";
import { CYCLONEDX_MEDIA_TYPE, imageSbom, indexSbom, serializeSbom, type SbomBaseImage } from "./sbom.ts";
import { BASE_DIGEST_KEY, BASE_NAME_KEY } from "../connector/published-base.ts";
import { platformMatches } from "../registry/platforms.ts";
import { MEDIA_TYPES } from "../registry/oci-types.ts";
import { readLayoutTarballIndex } from "../registry/oci-layout.ts";

const EMPTY_CONFIG = { mediaType: "application/vnd.oci.empty.v1+json", bytes: new TextEncoder().encode("{}") };

/** The tag an SBOM of `digest` is published under: `sha256-<hex>.sbom`. */
export function sbomTag(digest: string): string {
  return `${digest.replace(":", "-")}.sbom`;
}

/** One platform image to describe. */
export interface DescribedPlatform {
  readonly platform: Platform;
  /** Digest of its manifest, when known. */
  readonly digest?: string;
  readonly contents: ImageContents;
}

/** One SBOM published to a registry. */
export interface PublishedSbom {
  /** The image (manifest or index) it describes. */
  readonly subject: string;
  /** `registry/repository:sha256-….sbom@sha256:…` of the artifact. */
  readonly address: string;
  /** Platform, for platform SBOMs. */
  readonly platform?: Platform;
}

/** Reads each image's contents through the engine (before anything is output: a failure outputs nothing). */
export async function collectContents(engine: Engine, images: readonly BuiltImage[]): Promise<ImageContents[]> {
  const all: ImageContents[] = [];
  for (const image of images) all.push(await readImageContents(engine, image));
  return all;
}

/** The base image an image's labels name, if they do. */
export async function baseFromLabels(engine: Engine, image: BuiltImage): Promise<SbomBaseImage | undefined> {
  const { labels } = await engine.inspect(image);
  const name = labels[BASE_NAME_KEY];
  const digest = labels[BASE_DIGEST_KEY];
  return name !== undefined && digest !== undefined ? { name, digest } : undefined;
}

/** Pushes one SBOM as an artifact referring to `subject`, tagged `sha256-<subject>.sbom`; returns its address. */
export async function pushSbom(client: RegistryClient, repo: string, subject: Pick<FetchedManifest, "digest" | "mediaType" | "size">, json: string): Promise<string> {
  const sbom = new TextEncoder().encode(json);
  const configDigest = await client.uploadBlob(repo, EMPTY_CONFIG.bytes);
  const layerDigest = await client.uploadBlob(repo, sbom);
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    artifactType: CYCLONEDX_MEDIA_TYPE,
    config: { mediaType: EMPTY_CONFIG.mediaType, digest: configDigest, size: EMPTY_CONFIG.bytes.byteLength, data: "e30=" },
    layers: [{ mediaType: CYCLONEDX_MEDIA_TYPE, digest: layerDigest, size: sbom.byteLength, annotations: { "org.opencontainers.image.title": "sbom.cdx.json" } }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
  };
  const tag = sbomTag(subject.digest);
  const digest = await client.putManifest(repo, tag, jsonBytes(manifest), MEDIA_TYPES.ociManifest);
  return `${repo}:${tag}@${digest}`;
}

/** The SBOM published for `digest` in `repo`, or undefined when there is none. */
export async function fetchSbom(client: RegistryClient, repo: string, digest: string): Promise<string | undefined> {
  const tag = sbomTag(digest);
  if (!(await client.tagExists(repo, tag))) return undefined;
  const artifact = await client.getManifest(`${repo}:${tag}`);
  const layer = artifact.kind === "manifest" ? artifact.manifest.layers.find((l) => l.mediaType === CYCLONEDX_MEDIA_TYPE) : undefined;
  if (layer === undefined) {
    throw new ConnectorBuildError("REGISTRY_ERROR", `${repo}:${tag} is not an SBOM artifact: expected a manifest with a ${CYCLONEDX_MEDIA_TYPE} layer`);
  }
  return Buffer.from(await client.getBlob(repo, layer.digest)).toString("utf8");
}

/**
 * Publishes the SBOMs of a published image: one per platform manifest, then one for the index
 * (referring to the platform SBOMs). `indexDigest` undefined: a single-platform manifest.
 */
export async function publishSboms(
  client: RegistryClient,
  options: { repo: string; tag?: string; indexDigest?: string; platforms: readonly DescribedPlatform[]; base?: SbomBaseImage },
): Promise<PublishedSbom[]> {
  const published: PublishedSbom[] = [];
  const refs: Partial<Record<Platform, string>> = {};
  // An engine may not report per-platform digests: the index says them.
  const index = options.indexDigest !== undefined ? await client.getManifest(`${options.repo}@${options.indexDigest}`) : undefined;
  const platformDigest = (p: DescribedPlatform) =>
    p.digest ?? (index?.kind === "index" ? index.manifest.manifests.find((m) => m.platform !== undefined && platformMatches(m.platform, p.platform))?.digest : undefined);
  for (const p of options.platforms) {
    const digest = platformDigest(p);
    if (digest === undefined) throw new ConnectorBuildError("PUBLISH_FAILED", `publish SBOM of ${options.repo} (${p.platform}): the manifest digest is unknown`);
    const subject = await client.getManifest(`${options.repo}@${digest}`);
    const json = serializeSbom(imageSbom({ repository: options.repo, ...(options.tag !== undefined ? { tag: options.tag } : {}), digest }, p.platform, p.contents, options.base));
    const address = await pushSbom(client, options.repo, subject, json);
    refs[p.platform] = address.split("@")[0] as string;
    published.push({ subject: `${options.repo}@${digest}`, address, platform: p.platform });
  }
  if (options.indexDigest !== undefined && index !== undefined) {
    const subject = index;
    const json = serializeSbom(
      indexSbom(
        { repository: options.repo, ...(options.tag !== undefined ? { tag: options.tag } : {}), digest: options.indexDigest },
        options.platforms.map((p) => ({
          platform: p.platform,
          subject: { repository: options.repo, ...(options.tag !== undefined ? { tag: options.tag } : {}), ...(platformDigest(p) !== undefined ? { digest: platformDigest(p) as string } : {}) },
          contents: p.contents,
          ...(refs[p.platform] !== undefined ? { sbomReference: refs[p.platform] as string } : {}),
        })),
        options.base,
      ),
    );
    published.push({ subject: `${options.repo}@${options.indexDigest}`, address: await pushSbom(client, options.repo, subject, json) });
  }
  return published;
}

/** Manifest digests per platform of an OCI layout tarball written by the engines' `exportOci`. */
async function ociTarDigests(file: string): Promise<Partial<Record<Platform, string>>> {
  const index = await readLayoutTarballIndex(file);
  if (index === undefined) return {};
  const digests: Partial<Record<Platform, string>> = {};
  for (const m of index.manifests ?? []) if (m.platform) digests[`${m.platform.os}/${m.platform.architecture}` as Platform] = m.digest;
  return digests;
}

/**
 * Writes the SBOMs of an `oci:` output beside the tarball: `<file>.<arch>.cdx.json` per platform
 * and `<file>.cdx.json` for the whole. Returns the files written.
 */
export async function writeOciSboms(
  file: string,
  options: { repository: string; tag?: string; platforms: readonly Omit<DescribedPlatform, "digest">[]; base?: SbomBaseImage },
): Promise<string[]> {
  const digests = await ociTarDigests(file);
  const tag = options.tag !== undefined ? { tag: options.tag } : {};
  const written: string[] = [];
  const described = options.platforms.map((p) => ({ ...p, subject: { repository: options.repository, ...tag, ...(digests[p.platform] !== undefined ? { digest: digests[p.platform] as string } : {}) } }));
  for (const p of described) {
    const path = `${file}.${platformArchitecture(p.platform)}.cdx.json`;
    writeFileSync(path, `${serializeSbom(imageSbom(p.subject, p.platform, p.contents, options.base), 2)}\n`);
    written.push(path);
  }
  const whole = `${file}.cdx.json`;
  writeFileSync(whole, `${serializeSbom(indexSbom({ repository: options.repository, ...tag }, described, options.base), 2)}\n`);
  written.push(whole);
  return written;
}

/** What {@link describePublishedImage} found. */
export interface DescribedReference {
  readonly repo: string;
  readonly tag?: string;
  /** The digest the reference resolved to (index or manifest). */
  readonly digest: string;
  readonly isIndex: boolean;
  readonly platforms: DescribedPlatform[];
  readonly base?: SbomBaseImage;
}

/**
 * Pulls each platform image of a published reference into the engine (a `from`-only recipe) and
 * reads its contents; `platform` limits an index to one platform.
 */
export async function describePublishedImage(engine: Engine, client: RegistryClient, reference: string, platform?: Platform): Promise<DescribedReference> {
  const parts = splitImageReference(reference);
  const repo = `${parts.registry}/${parts.repository}`;
  const top = await client.getManifest(reference);
  const entries: Array<{ platform: Platform; digest: string }> = [];
  if (top.kind === "index") {
    for (const m of top.manifest.manifests) {
      const p = m.platform ? `${m.platform.os}/${m.platform.architecture}` : "";
      if ((p === "linux/amd64" || p === "linux/arm64") && (platform === undefined || p === platform)) entries.push({ platform: p, digest: m.digest });
    }
    if (entries.length === 0) throw new ConnectorBuildError("USAGE", `${reference} holds no ${platform ?? "linux/amd64 or linux/arm64"} image`);
  } else {
    const config = await client.getConfig(repo, top.manifest.config.digest);
    const p = `${config.os}/${config.architecture}`;
    if (p !== "linux/amd64" && p !== "linux/arm64") throw new ConnectorBuildError("USAGE", `${reference} is a ${p} image: expected linux/amd64 or linux/arm64`);
    if (platform !== undefined && p !== platform) throw new ConnectorBuildError("USAGE", `${reference} is a ${p} image, not ${platform}`);
    entries.push({ platform: p, digest: top.digest });
  }
  const platforms: DescribedPlatform[] = [];
  let base: SbomBaseImage | undefined;
  for (const entry of entries) {
    const image = await engine.build({ recipe: ImageRecipe.empty().from(`${repo}:${parts.tag ?? "latest"}@${entry.digest}`), platform: entry.platform });
    base ??= await baseFromLabels(engine, image);
    platforms.push({ platform: entry.platform, digest: entry.digest, contents: await readImageContents(engine, image) });
  }
  const described = { repo, digest: top.digest, isIndex: top.kind === "index", platforms, ...(parts.tag !== undefined ? { tag: parts.tag } : {}) };
  return base !== undefined ? { ...described, base } : described;
}
