/**
 * `connector-build rebase`: moves published connector images onto another base image version
 * without rebuilding them, through the registry API (the idea of `pack rebase` and `crane rebase`).
 *
 * Per image: read the index (or single manifest) and, per platform, the manifest and config; find
 * the base it was built on (label `org.opencontainers.image.base.digest`, else the catalog version
 * whose layers are the image's layer prefix); refuse a move across a major version, and a tag that
 * holds another image (without `force`); rewrite the manifest and config
 * ({@link rebasePlatformImage}); push the new base's layers (cross-repository mount, else copy), the
 * config and the per-platform manifest BY DIGEST only. Then every rebased image is pulled into the
 * engine and must answer `spec`. The new base's sanity checks are the base's, not the image's: they
 * passed when the base was released (the catalog records a version as published only after its
 * checks passed), so they are not run again, unless `checkBase` asks, and then once per platform.
 * Only when every platform of every image passed are the tags moved, last ({@link publishTagMoves}).
 */
import semver from "semver";
import { ImageRecipe, type BaseImageVersion, type Platform } from "@airbyte-ci/base-images";
import { verifySpec } from "../inspect/spec.ts";
import type { Engine } from "../engines/engine.ts";
import { ConnectorBuildError } from "../errors.ts";
import { MEDIA_TYPES, RegistryClient } from "../registry/registry-client.ts";
import { runSanityChecks, type SanityCheckResult } from "../base-image/sanity-checks.ts";
import { jsonBytes } from "./image-config.ts";
import { readImageContents, type ImageContents } from "./image-contents.ts";
import type { PublishedSbom } from "./sbom-output.ts";
import { rebaseAnnotations, rebasePlatformImage, type BaseReference, type RebasedPlatformImage } from "./rebase-image.ts";
import { labelsOf, readBaseImage, readSource, versionFromLabels, versionFromLayers, type SourceImage } from "./rebase-source.ts";
import { currentTagDigest, publishTagMoves, type TagMove } from "./rebase-publish.ts";
import { BASE_DIGEST_KEY } from "../connector/published-base.ts";
import { computeDigest } from "../registry/platforms.ts";
import { createLimiter, machineConcurrency } from "../shared/pool.ts";
import type { BaseImageCatalog } from "@airbyte-ci/base-images";

/** Options of {@link rebaseImages}. */
export interface RebaseOptions {
  /** The catalog holding both the images' current base versions and the target. */
  readonly catalog: BaseImageCatalog;
  /** Target base version (same major version as every image's current base). */
  readonly to: string;
  /** The engine the rebased images are pulled into to answer `spec` (and read their contents for the SBOMs). */
  readonly engine: Engine;
  /** Registry client. Default: a new one. */
  readonly registry?: RegistryClient;
  /** Publish under this tag instead of each image's own. Required for images given by digest only. */
  readonly tag?: string;
  /** Replace a tag that holds another image than the one rebased (refused otherwise, before anything is pushed). Default: false. */
  readonly force?: boolean;
  /**
   * Run the target base's sanity checks again, once per platform on the published base image, before
   * anything is pushed. Default: false: a catalog version is published only after its checks passed
   * (`base release`/`base publish`), so they are not run again.
   */
  readonly checkBase?: boolean;
  /** Progress lines, for stderr. Default: discarded. */
  readonly log?: (line: string) => void;
  /** Publish a fresh SBOM beside each rebased image and index (the old ones describe the old images). Default: true. */
  readonly sbom?: boolean;
  /** Images pushed and verified at once. Default: the machine's cores (`os.availableParallelism()`). */
  readonly concurrency?: number;
}

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
  /** The new base's sanity checks on this platform, when this rebase ran them (`checkBase`); else empty. */
  readonly checks: readonly SanityCheckResult[];
  /** `ran`: the checks above ran on the published base for this rebase; `passed-at-release`: the catalog records the base published, which it is only after its checks passed. */
  readonly baseChecks: "ran" | "passed-at-release";
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
  /** False when the image already was on the target version (nothing was pushed, no tag moved). */
  readonly changed: boolean;
  /** `registry/repository:tag@sha256:…` of the published index (or manifest); for an unchanged image, the image as given (`registry/repository[:its own tag]@sha256:…`). */
  readonly address: string;
  readonly digest: string;
  readonly platforms: readonly RebasedPlatform[];
  /** SBOMs published beside the rebased images. */
  readonly sboms?: readonly PublishedSbom[];
}

interface PlannedImage {
  readonly source: SourceImage;
  readonly from: BaseImageVersion;
  readonly fromDigest: string;
  /** What the tag pointed at when it was read (undefined: no such tag). */
  readonly tagWas: string | undefined;
  readonly rebased: Array<{ platform: Platform; from: string; result: RebasedPlatformImage; mediaType: string; baseRepo: string }>;
}

function refuseMajor(reference: string, from: string, to: string): ConnectorBuildError {
  return new ConnectorBuildError(
    "REBASE_REFUSED",
    `rebase ${reference}: from base ${from} to ${to} crosses a major version: a base image promises compatibility only within a major version (${semver.major(from)}.x), so a connector must be rebuilt and tested on ${to}, not rebased; expected --to ${semver.major(from)}.<minor>.<patch>`,
  );
}

async function pushBlobInto(client: RegistryClient, repo: string, digest: string, fromRepo: string): Promise<"present" | "mounted" | "copied"> {
  if (await client.blobExists(repo, digest)) return "present";
  if (fromRepo.split("/")[0] === repo.split("/")[0] && (await client.mountBlob(repo, digest, fromRepo))) return "mounted";
  await client.uploadBlob(repo, await client.getBlob(fromRepo, digest));
  return "copied";
}

/** The target base's sanity checks, once per platform on the published base (see {@link RebaseOptions.checkBase}); failures refuse the rebase. */
async function checkTargetBase(engine: Engine, target: BaseImageVersion, platforms: readonly Platform[], log: (line: string) => void): Promise<Map<Platform, SanityCheckResult[]>> {
  const results = new Map<Platform, SanityCheckResult[]>();
  const failures: string[] = [];
  for (const platform of platforms) {
    log(`base ${target.version} (${platform}): running ${target.sanityChecks.length} sanity checks`);
    const image = await engine.build({ recipe: ImageRecipe.empty().from(target.publishedAddress as string), platform });
    const checks = await runSanityChecks(engine, image, target.sanityChecks);
    results.set(platform, checks);
    for (const c of checks) if (!c.passed) failures.push(`base ${target.version} [${platform}] ${c.check}: expected ${c.expected}, saw ${c.seen}`);
  }
  if (failures.length > 0) {
    throw new ConnectorBuildError("SANITY_CHECK_FAILED", `rebase onto base ${target.version}: ${failures.length} check(s) failed; no tag was moved, nothing was published:\n  ${failures.join("\n  ")}`);
  }
  return results;
}

/** The index (or single manifest) that goes under an image's tag. */
function topManifest(plan: PlannedImage, platforms: readonly RebasedPlatform[], base: BaseReference): { bytes: Uint8Array; mediaType: string; digest: string } {
  const { source } = plan;
  if (source.top.kind !== "index") {
    const rebased = plan.rebased[0] as PlannedImage["rebased"][number];
    return { bytes: rebased.result.manifestBytes, mediaType: rebased.mediaType, digest: rebased.result.manifestDigest };
  }
  const original = JSON.parse(Buffer.from(source.top.bytes).toString("utf8")) as { manifests: Array<Record<string, unknown>>; annotations?: Record<string, string> };
  const entries = platforms.map((rp, k) => {
    const entry = source.platforms[k]?.entry ?? {};
    const rebased = plan.rebased[k] as PlannedImage["rebased"][number];
    return { ...entry, digest: rp.digest, size: rebased.result.manifestBytes.byteLength, mediaType: rebased.mediaType };
  });
  const index = { ...original, manifests: entries, ...(original.annotations !== undefined ? { annotations: rebaseAnnotations(original.annotations, base) } : {}) };
  const bytes = jsonBytes(index);
  return { bytes, mediaType: source.top.mediaType || MEDIA_TYPES.ociIndex, digest: computeDigest(bytes) };
}

/**
 * Rebases images (`registry/repository:tag`, optionally `@sha256:…`) onto base version `options.to`.
 * Every input is read and checked first (unknown or unpublished target, major-version move, an
 * image not built on a catalog base, a tag holding another image: REBASE_REFUSED/UNKNOWN_VERSION,
 * nothing pushed); then the rebased blobs and per-platform manifests are pushed by digest and
 * verified in the engine, and only when all passed are the tags moved. Returns one result per
 * image, in order.
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

  // 1. Read and plan everything: nothing is pushed until every image is understood. Images are read
  // `concurrency` at once; the first refusal in the order given is the one reported.
  const limit = createLimiter(options.concurrency ?? machineConcurrency());
  const planOne = async (reference: string): Promise<{ unchanged: RebaseResult } | { plan: PlannedImage }> => {
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
      log(`${reference} is already on base ${target.version}: nothing to push`);
      // Nothing is pushed: the address is the image as given, never one under --tag.
      const address = source.ownTag !== undefined ? `${source.repo}:${source.ownTag}@${source.top.digest}` : `${source.repo}@${source.top.digest}`;
      return { unchanged: { image: reference, from: { version: from.version, digest: fromDigest }, to: { version: target.version, digest: targetDigest }, changed: false, address, digest: source.top.digest, platforms: [] } };
    }
    const address = `${source.repo}:${source.tag}`;
    const tagWas = await currentTagDigest(source.repo, source.tag);
    if (tagWas !== undefined && tagWas !== source.top.digest && options.force !== true) {
      throw new ConnectorBuildError("REBASE_REFUSED", `rebase ${reference}: ${address} holds another image (${tagWas}), not the one rebased (${source.top.digest}): expected an unused tag or the image's own (or --force to replace it)`);
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
    return { plan: { source, from, fromDigest, tagWas, rebased } };
  };
  const settled = await Promise.allSettled(references.map((reference) => limit(() => planOne(reference))));
  const plans: PlannedImage[] = [];
  const unchanged = new Map<number, RebaseResult>();
  const tags = new Map<string, string>();
  for (const [i, outcome] of settled.entries()) {
    if (outcome.status === "rejected") throw outcome.reason;
    if ("unchanged" in outcome.value) {
      unchanged.set(i, outcome.value.unchanged);
      continue;
    }
    const { plan } = outcome.value;
    const address = `${plan.source.repo}:${plan.source.tag}`;
    const twice = tags.get(address);
    if (twice !== undefined) throw new ConnectorBuildError("USAGE", `rebase: ${plan.source.reference} and ${twice} would both be published as ${address}: expected one image per tag`);
    tags.set(address, plan.source.reference);
    plans.push(plan);
  }

  // The base's checks are the base's: once per platform, before anything is pushed, or not at all.
  const platformsUsed = [...new Set(plans.flatMap((p) => p.rebased.map((r) => r.platform)))].sort();
  const baseChecks = options.checkBase === true && plans.length > 0 ? await checkTargetBase(options.engine, target, platformsUsed, log) : undefined;
  if (baseChecks === undefined && plans.length > 0) log(`base ${target.version}: its sanity checks passed when it was released (the catalog records it published); not run again (--check-base runs them)`);

  // 2. Push blobs and per-platform manifests by digest only (no tag moves), verify each in the engine;
  // up to `concurrency` images at once (their failures reported in the order the images were given).
  const verified = new Map<PlannedImage, RebasedPlatform[]>();
  const failuresByPlan = new Map<PlannedImage, string[]>();
  let anyFailed = false;
  try {
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
        log(`${plan.source.reference} (${platform}): pushed ${plan.source.repo}@${digest}; running spec`);
        // Pulled by digest (layers the engine holds are not fetched again); spec and the SBOM's listing run side by side.
        const { image } = await options.engine.resolveImage(`${plan.source.repo}@${digest}`, { platform });
        const [spec, listed] = await Promise.all([
          verifySpec(options.engine, image),
          options.sbom !== false ? readImageContents(options.engine, image).then((c) => ({ contents: c }), (error: unknown) => ({ error })) : undefined,
        ]);
        if (!spec.spec) anyFailed = true;
        if (listed !== undefined && "error" in listed && spec.spec) throw listed.error;
        const contents = listed !== undefined && "contents" in listed && spec.spec && !anyFailed ? listed.contents : undefined;
        if (!spec.spec) failures.push(`${plan.source.reference} [${platform}] spec: ${spec.detail}`);
        platforms.push({
          platform,
          from,
          digest,
          baseLayers: result.baseLayers.map((l) => l.digest),
          connectorLayers: result.connectorLayers.map((l) => l.digest),
          checks: baseChecks?.get(platform) ?? [],
          baseChecks: baseChecks !== undefined ? "ran" : "passed-at-release",
          spec: { passed: spec.spec, detail: spec.detail },
          ...(contents !== undefined ? { contents } : {}),
        });
      }
      verified.set(plan, platforms);
    })));
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    const code = ConnectorBuildError.isInstance(error) ? error.code : "REGISTRY_ERROR";
    throw new ConnectorBuildError(code, `${error.message}\nno tag was moved (rebased images are pushed by digest only until every one is verified)`, { cause: error });
  }
  const failures = plans.flatMap((plan) => failuresByPlan.get(plan) ?? []);
  if (failures.length > 0) {
    throw new ConnectorBuildError(
      "SANITY_CHECK_FAILED",
      `rebase onto base ${target.version}: ${failures.length} check(s) failed; no tag was moved, nothing was published:\n  ${failures.join("\n  ")}`,
    );
  }

  // 3. Every image passed: indexes and SBOMs by digest, then the tags, last.
  const base: BaseReference = { name: targetName, digest: targetDigest };
  const moves: TagMove[] = plans.map((plan) => {
    const platforms = verified.get(plan) as RebasedPlatform[];
    const top = topManifest(plan, platforms, base);
    const { source } = plan;
    return { reference: source.reference, repo: source.repo, tag: source.tag, ...top, isIndex: source.top.kind === "index", tagWas: plan.tagWas, platforms: platforms.map((p) => ({ platform: p.platform, digest: p.digest, contents: p.contents })) };
  });
  const published = await publishTagMoves(client, moves, { sbom: options.sbom !== false ? base : undefined, log });
  const results: RebaseResult[] = [];
  let p = 0;
  for (const [i, reference] of references.entries()) {
    const same = unchanged.get(i);
    if (same) {
      results.push(same);
      continue;
    }
    const k = p++;
    const plan = plans[k] as PlannedImage;
    const done = published[k] as (typeof published)[number];
    results.push({
      image: reference,
      from: { version: plan.from.version, digest: plan.fromDigest },
      to: { version: target.version, digest: targetDigest },
      changed: true,
      address: `${plan.source.repo}:${plan.source.tag}@${done.digest}`,
      digest: done.digest,
      platforms: (verified.get(plan) as RebasedPlatform[]).map(({ contents: _contents, ...rest }) => rest),
      ...(done.sboms !== undefined ? { sboms: done.sboms } : {}),
    });
  }
  return results;
}
