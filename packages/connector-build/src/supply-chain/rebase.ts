/**
 * `connector-build rebase`: moves published connector images onto another base image version
 * without rebuilding them, through the registry API (the idea of `pack rebase` and `crane rebase`).
 *
 * Per image: read the index (or single manifest) and, per platform, the manifest and config; find
 * the base it was built on (label `org.opencontainers.image.base.digest`, else the catalog version
 * whose layers are the image's layer prefix); refuse a move across a major version; rewrite the
 * manifest and config ({@link rebasePlatformImage}); push the new base's layers (cross-repository
 * mount, else copy), the config and the per-platform manifest BY DIGEST only. Then every rebased
 * image is pulled into the engine and must pass the new base's sanity checks and answer `spec`.
 * Only when every platform of every image passed is any tag moved: one index per image, last.
 */
import semver from "semver";
import { ImageRecipe, isPlatform, splitImageReference, type BaseImageCatalog, type BaseImageVersion, type Platform } from "@airbyte-ci/base-images";
import { verifySpec } from "../inspect/spec.ts";
import type { Engine } from "../engines/engine.ts";
import { ConnectorBuildError } from "../errors.ts";
import { MEDIA_TYPES, RegistryClient, type FetchedManifest } from "../registry/registry-client.ts";
import { runSanityChecks, type SanityCheckResult } from "../base-image/sanity-checks.ts";
import { jsonBytes, parseImageConfig } from "./image-config.ts";
import { readImageContents, type ImageContents } from "./image-contents.ts";
import { publishSboms, type PublishedSbom } from "./sbom-output.ts";
import { baseMismatch, rebaseAnnotations, rebasePlatformImage, type BaseReference, type PlatformImage, type RebasedPlatformImage } from "./rebase-image.ts";
import { BASE_DIGEST_KEY, BASE_NAME_KEY } from "../connector/published-base.ts";
import { computeDigest, platformMatches } from "../registry/platforms.ts";
import type { ImageManifest } from "../registry/oci-types.ts";
import { createLimiter } from "../shared/pool.ts";

/** Options of {@link rebaseImages}. */
export interface RebaseOptions {
  /** The catalog holding both the images' current base versions and the target. */
  readonly catalog: BaseImageCatalog;
  /** Target base version (same major version as every image's current base). */
  readonly to: string;
  /** The engine the rebased images are pulled into to run the sanity checks and `spec`. */
  readonly engine: Engine;
  /** Registry client. Default: a new one. */
  readonly registry?: RegistryClient;
  /** Publish under this tag instead of each image's own. Required for images given by digest only. */
  readonly tag?: string;
  /** Progress lines, for stderr. Default: discarded. */
  readonly log?: (line: string) => void;
  /** Publish a fresh SBOM beside each rebased image and index (the old ones describe the old images). Default: true. */
  readonly sbom?: boolean;
  /** Images pushed and verified at once. Default {@link REBASE_CONCURRENCY}. */
  readonly concurrency?: number;
}

/** Images rebased at once by default: their checks are short containers, mostly engine latency. */
export const REBASE_CONCURRENCY = 4;

/** One platform of a rebased image. */
export interface RebasedPlatform {
  readonly platform: Platform;
  /** The platform manifest before the rebase. */
  readonly from: string;
  /** The platform manifest after the rebase (pushed by digest). */
  readonly digest: string;
  /** Digests of the new base's layers at the start of the image. */
  readonly baseLayers: readonly string[];
  /** Digests of the connector's own layers, identical before and after. */
  readonly connectorLayers: readonly string[];
  readonly checks: readonly SanityCheckResult[];
  readonly spec: { readonly passed: boolean; readonly detail: string };
  /** What the rebased image holds, for its SBOM (not printed). */
  readonly contents?: ImageContents;
}

/** The outcome for one image, as `--json` prints it. */
export interface RebaseResult {
  /** The reference as given. */
  readonly image: string;
  /** Base version and index digest the image was on. */
  readonly from: { readonly version: string; readonly digest: string };
  /** Base version and index digest it is on now. */
  readonly to: { readonly version: string; readonly digest: string };
  /** False when the image already was on the target version (nothing was pushed). */
  readonly changed: boolean;
  /** `registry/repository:tag@sha256:…` of the published index (or manifest). */
  readonly address: string;
  readonly digest: string;
  readonly platforms: readonly RebasedPlatform[];
  /** SBOMs published beside the rebased images. */
  readonly sboms?: readonly PublishedSbom[];
}

interface SourceImage {
  readonly reference: string;
  readonly registry: string;
  readonly repository: string;
  /** `registry/repository`. */
  readonly repo: string;
  readonly tag: string;
  readonly top: FetchedManifest;
  readonly platforms: ReadonlyArray<{ platform: Platform; fetched: FetchedManifest & { kind: "manifest" }; image: PlatformImage; entry?: Record<string, unknown> }>;
}

interface PlannedImage {
  readonly source: SourceImage;
  readonly from: BaseImageVersion;
  readonly fromDigest: string;
  readonly rebased: Array<{ platform: Platform; from: string; result: RebasedPlatformImage; mediaType: string; baseRepo: string }>;
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

async function readSource(client: RegistryClient, reference: string, tagOverride: string | undefined): Promise<SourceImage> {
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
  return { reference, registry: parts.registry, repository: parts.repository, repo, tag, top, platforms };
}

/** A published base version's platform image, read from `repo` (where the image says it came from) or the catalog's repository. */
async function readBaseImage(client: RegistryClient, version: BaseImageVersion, platform: Platform, repos: readonly string[]): Promise<{ repo: string; indexDigest: string; manifestDigest: string; image: PlatformImage }> {
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

function labelsOf(image: PlatformImage): Record<string, string> {
  return image.config.config?.Labels ?? {};
}

/** The catalog version an image says it was built on, from its base labels (index or platform-manifest digest). */
async function versionFromLabels(client: RegistryClient, catalog: BaseImageCatalog, source: SourceImage): Promise<{ version: BaseImageVersion; repo: string } | undefined> {
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
async function versionFromLayers(client: RegistryClient, catalog: BaseImageCatalog, source: SourceImage): Promise<{ version: BaseImageVersion; repo: string } | undefined> {
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

function refuseMajor(reference: string, from: string, to: string): ConnectorBuildError {
  return new ConnectorBuildError(
    "REBASE_REFUSED",
    `rebase ${reference}: from base ${from} to ${to} crosses a major version: a base image promises compatibility only within a major version (${semver.major(from)}.x), so a connector must be rebuilt and tested on ${to}, not rebased; expected --to ${semver.major(from)}.<minor>.<patch>`,
  );
}

async function pushBlobInto(client: RegistryClient, repo: string, digest: string, fromRepo: string): Promise<"present" | "mounted" | "copied"> {
  if (await client.blobExists(repo, digest)) return "present";
  if (splitImageReference(fromRepo).registry === splitImageReference(repo).registry && (await client.mountBlob(repo, digest, fromRepo))) return "mounted";
  await client.uploadBlob(repo, await client.getBlob(fromRepo, digest));
  return "copied";
}

/**
 * Rebases images (`registry/repository:tag`, optionally `@sha256:…`) onto base version `options.to`.
 * Every input is read and checked first (unknown or unpublished target, major-version move, an
 * image not built on a catalog base: REBASE_REFUSED/UNKNOWN_VERSION, nothing pushed); then the
 * rebased blobs and per-platform manifests are pushed by digest, verified in the engine, and only
 * when all passed are the tags moved. Returns one result per image, in order.
 */
export async function rebaseImages(references: readonly string[], options: RebaseOptions): Promise<RebaseResult[]> {
  const log = options.log ?? (() => {});
  const client = options.registry ?? new RegistryClient();
  const { catalog } = options;
  if (references.length === 0) throw new ConnectorBuildError("USAGE", "rebase: no image given: expected <image-ref|connector-dir>...");
  const target = catalog.get(options.to);
  if (!target.published) {
    throw new ConnectorBuildError("UNKNOWN_VERSION", `rebase: base image ${target.version} is in the ${catalog.name} catalog but not published: publish it first (connector-build base publish ${target.version})`);
  }
  const targetDigest = target.published.address.digest;
  const targetName = `${catalog.repository}:${target.version}`;

  // 1. Read and plan everything: nothing is pushed until every image is understood.
  const plans: PlannedImage[] = [];
  const unchanged = new Map<number, RebaseResult>();
  for (const [i, reference] of references.entries()) {
    log(`reading ${reference}`);
    const source = await readSource(client, reference, options.tag);
    const found = (await versionFromLabels(client, catalog, source)) ?? (await versionFromLayers(client, catalog, source));
    if (!found) {
      throw new ConnectorBuildError(
        "REBASE_REFUSED",
        `rebase ${reference}: its base is not a published version of the ${catalog.name} catalog (no ${BASE_DIGEST_KEY} label naming one, and no published version's layers start the image): expected an image built FROM a catalog base`,
      );
    }
    const from = found.version;
    if (semver.major(from.version) !== semver.major(target.version)) throw refuseMajor(reference, from.version, target.version);
    const fromDigest = from.published?.address.digest as string;
    if (from.version === target.version) {
      log(`${reference} is already on base ${target.version}`);
      unchanged.set(i, {
        image: reference,
        from: { version: from.version, digest: fromDigest },
        to: { version: target.version, digest: targetDigest },
        changed: false,
        address: `${source.repo}:${source.tag}@${source.top.digest}`,
        digest: source.top.digest,
        platforms: [],
      });
      continue;
    }
    log(`${reference}: base ${from.version} → ${target.version} (${source.platforms.map((p) => p.platform).join(", ")})`);
    const rebased: PlannedImage["rebased"] = [];
    for (const { platform, fetched, image } of source.platforms) {
      if (!target.platforms.includes(platform)) {
        throw new ConnectorBuildError("REBASE_REFUSED", `rebase ${reference}: base ${target.version} has no ${platform} image: expected one of ${target.platforms.join(", ")}`);
      }
      const oldBase = await readBaseImage(client, from, platform, [found.repo, catalog.repository]);
      const newBase = await readBaseImage(client, target, platform, [catalog.repository]);
      const oldLabel = labelsOf(image)[BASE_DIGEST_KEY] ?? fetched.manifest.annotations?.[BASE_DIGEST_KEY];
      // Keep the image's convention: a platform manifest digest stays a platform manifest digest.
      const base: BaseReference = { name: targetName, digest: oldLabel === oldBase.manifestDigest ? newBase.manifestDigest : targetDigest };
      const result = rebasePlatformImage(image, oldBase.image, newBase.image, base, `rebase ${reference} (${platform})`);
      rebased.push({ platform, from: fetched.digest, result, mediaType: fetched.mediaType, baseRepo: newBase.repo });
    }
    plans.push({ source, from, fromDigest, rebased });
  }

  // 2. Push blobs and per-platform manifests by digest only (no tag moves), verify each in the engine;
  // up to `concurrency` images at once (their failures reported in the order the images were given).
  const verified = new Map<PlannedImage, RebasedPlatform[]>();
  const failuresByPlan = new Map<PlannedImage, string[]>();
  let anyFailed = false;
  const limit = createLimiter(options.concurrency ?? REBASE_CONCURRENCY);
  await Promise.all(plans.map((plan) => limit(async () => {
    const platforms: RebasedPlatform[] = [];
    const failures: string[] = [];
    failuresByPlan.set(plan, failures);
    for (const { platform, from, result, mediaType, baseRepo } of plan.rebased) {
      // The new base's layers (mounted from the base repository when possible), then the config.
      for (const layer of result.baseLayers) {
        const how = await pushBlobInto(client, plan.source.repo, layer.digest, baseRepo);
        if (how !== "present") log(`${plan.source.reference} (${platform}): base layer ${layer.digest.slice(7, 19)} ${how}`);
      }
      await client.uploadBlob(plan.source.repo, result.configBytes);
      const digest = await client.putManifest(plan.source.repo, result.manifestDigest, result.manifestBytes, mediaType);
      log(`${plan.source.reference} (${platform}): pushed ${plan.source.repo}@${digest}; running ${target.sanityChecks.length} sanity checks and spec`);
      const image = await options.engine.build({ recipe: ImageRecipe.empty().from(`${plan.source.repo}:${plan.source.tag}@${digest}`), platform });
      const checks = await runSanityChecks(options.engine, image, target.sanityChecks);
      const spec = await verifySpec(options.engine, image);
      const passed = spec.spec && checks.every((c) => c.passed);
      if (!passed) anyFailed = true;
      const contents = options.sbom !== false && passed && !anyFailed ? await readImageContents(options.engine, image) : undefined;
      for (const c of checks) if (!c.passed) failures.push(`${plan.source.reference} [${platform}] ${c.check}: expected ${c.expected}, saw ${c.seen}`);
      if (!spec.spec) failures.push(`${plan.source.reference} [${platform}] spec: ${spec.detail}`);
      platforms.push({
        platform,
        from,
        digest,
        baseLayers: result.baseLayers.map((l) => l.digest),
        connectorLayers: result.connectorLayers.map((l) => l.digest),
        checks,
        spec: { passed: spec.spec, detail: spec.detail },
        ...(contents !== undefined ? { contents } : {}),
      });
    }
    verified.set(plan, platforms);
  })));
  const failures = plans.flatMap((plan) => failuresByPlan.get(plan) ?? []);
  if (failures.length > 0) {
    throw new ConnectorBuildError(
      "SANITY_CHECK_FAILED",
      `rebase onto base ${target.version}: ${failures.length} check(s) failed; no tag was moved, nothing was published:\n  ${failures.join("\n  ")}`,
    );
  }

  // 3. Every image passed: move the tags, one index (or manifest) per image.
  const results: RebaseResult[] = [];
  let p = 0;
  for (const [i, reference] of references.entries()) {
    const same = unchanged.get(i);
    if (same) {
      results.push(same);
      continue;
    }
    const plan = plans[p++] as PlannedImage;
    const platforms = verified.get(plan) as RebasedPlatform[];
    const { source } = plan;
    let digest: string;
    if (source.top.kind === "index") {
      const base: BaseReference = { name: targetName, digest: targetDigest };
      const original = JSON.parse(Buffer.from(source.top.bytes).toString("utf8")) as { manifests: Array<Record<string, unknown>>; annotations?: Record<string, string> };
      const entries = platforms.map((rp, k) => {
        const entry = source.platforms[k]?.entry ?? {};
        const rebased = plan.rebased[k] as PlannedImage["rebased"][number];
        return { ...entry, digest: rp.digest, size: rebased.result.manifestBytes.byteLength, mediaType: rebased.mediaType };
      });
      const index = {
        ...original,
        manifests: entries,
        ...(original.annotations !== undefined ? { annotations: rebaseAnnotations(original.annotations, base) } : {}),
      };
      const bytes = jsonBytes(index);
      log(`publishing ${source.repo}:${source.tag} (${computeDigest(bytes)})`);
      digest = await client.putManifest(source.repo, source.tag, bytes, source.top.mediaType || MEDIA_TYPES.ociIndex);
    } else {
      const rebased = plan.rebased[0] as PlannedImage["rebased"][number];
      log(`publishing ${source.repo}:${source.tag}`);
      digest = await client.putManifest(source.repo, source.tag, rebased.result.manifestBytes, rebased.mediaType);
    }
    // What the registry says the tag now is (not what this client remembers pushing).
    const reported = await client.resolveDigest(`${source.repo}:${source.tag}`, { cached: false });
    if (reported !== digest) {
      throw new ConnectorBuildError("PUBLISH_FAILED", `rebase ${reference}: pushed ${source.repo}:${source.tag} as ${digest} but the registry reports ${reported}`);
    }
    let sboms: PublishedSbom[] | undefined;
    if (options.sbom !== false) {
      log(`publishing SBOMs of ${source.repo}:${source.tag}`);
      sboms = await publishSboms(client, {
        repo: source.repo,
        tag: source.tag,
        ...(source.top.kind === "index" ? { indexDigest: digest } : {}),
        platforms: platforms.map((rp) => ({ platform: rp.platform, digest: rp.digest, contents: rp.contents as ImageContents })),
        base: { name: targetName, digest: targetDigest },
      });
    }
    results.push({
      image: reference,
      from: { version: plan.from.version, digest: plan.fromDigest },
      to: { version: target.version, digest: targetDigest },
      changed: true,
      address: `${source.repo}:${source.tag}@${digest}`,
      digest,
      platforms: platforms.map(({ contents: _contents, ...rest }) => rest),
      ...(sboms !== undefined ? { sboms } : {}),
    });
  }
  return results;
}
