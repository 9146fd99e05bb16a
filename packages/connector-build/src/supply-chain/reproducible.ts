/**
 * Reproducible connector images: the same inputs (connector files, base digest, lock) give the same
 * digest per platform and the same index digest, whatever the build cache holds and whenever.
 *
 * Debian's Docker 20.10 BuildKit (0.8) does not rewrite timestamps (SOURCE_DATE_EPOCH in the
 * exporter, `rewrite-timestamp=true`, needs BuildKit 0.13), so the image is normalised after the
 * build, engine-neutrally, from what the engine itself publishes: the engine pushes its image as it
 * is under the staging tag `<tag>.unnormalized` (`docker push` sends only the layers the registry
 * lacks: the base's are mounted), and the normalised image is assembled in the registry from it.
 * An OCI export would copy the whole image, base included, several times over (docker save, unpack,
 * repack): most of a reproducible publish's time before. Then:
 * - layers that are the base image's (the config's diff id is the published base's, in order) are
 *   the base's own published blobs, byte for byte, and are not read at all;
 * - every other layer is streamed through {@link TarNormalizer} (times clamped to
 *   SOURCE_DATE_EPOCH) into a fixed gzip setting with no name or time in the gzip header, its diff
 *   id hashed on the way (the connector's layers only are read back from the registry);
 * - the config's `created` and the connector's history entries say SOURCE_DATE_EPOCH;
 * - Python writes its `.pyc` in checked-hash mode because every `withExec` after the base runs with
 *   `SOURCE_DATE_EPOCH` set ({@link withSourceDateEpoch}), so compiled files do not embed the
 *   install time.
 * SOURCE_DATE_EPOCH: the environment's, else the connector folder's last git commit time, else 0.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { createGunzip, createGzip } from "node:zlib";
import { ImageRecipe, splitImageReference, type Platform, type RecipeOperation } from "@airbyte-ci/base-images";
import type { BuiltImage, Engine, PublishAnnotations, PublishResult } from "../engines/engine.ts";
import { ConnectorBuildError } from "../errors.ts";
import { runProcess } from "../shared/process.ts";
import { RegistryClient } from "../registry/registry-client.ts";
import { jsonBytes, parseImageConfig, type RawImageConfig } from "./image-config.ts";
import { TarNormalizer } from "./tar-normalize.ts";
import { computeDigest, platformMatches } from "../registry/platforms.ts";
import { MEDIA_TYPES } from "../registry/oci-types.ts";

const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";

/** SOURCE_DATE_EPOCH for a connector: the environment's, else its folder's last git commit time, else 0. */
export async function sourceDateEpoch(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const given = env.SOURCE_DATE_EPOCH;
  if (given !== undefined && given !== "") {
    if (!/^\d+$/.test(given)) throw new ConnectorBuildError("USAGE", `SOURCE_DATE_EPOCH='${given}': expected seconds since 1970 (digits only)`);
    return Number(given);
  }
  const git = await runProcess("git", ["log", "-1", "--format=%ct", "--", "."], { cwd: dir }).catch(() => undefined);
  const value = git?.exitCode === 0 ? git.stdout.trim() : "";
  return /^\d+$/.test(value) ? Number(value) : 0;
}

/**
 * The recipe with every `withExec` after its first `count` operations run under
 * `env SOURCE_DATE_EPOCH=<epoch>`: Python then compiles checked-hash `.pyc` files, and other tools
 * that honour the variable stamp it. Nothing is added to the image's environment.
 */
export function withSourceDateEpoch(recipe: ImageRecipe, epoch: number, count = 1): ImageRecipe {
  const ops: RecipeOperation[] = recipe.operations.map((op, i) =>
    i >= count && op.op === "withExec" ? { ...op, args: ["env", `SOURCE_DATE_EPOCH=${epoch}`, ...op.args] } : op,
  );
  return ImageRecipe.fromOperations(ops, "reproducible recipe");
}

interface BaseImage {
  readonly repo: string;
  readonly layers: ReadonlyArray<{ digest: string; size: number; mediaType: string }>;
  readonly config: RawImageConfig;
}

async function readBase(client: RegistryClient, address: string, platform: Platform): Promise<BaseImage | undefined> {
  const parts = splitImageReference(address);
  const repo = `${parts.registry}/${parts.repository}`;
  const top = await client.getManifest(address);
  const digest = top.kind === "index" ? top.manifest.manifests.find((m) => m.platform !== undefined && platformMatches(m.platform, platform))?.digest : top.digest;
  if (digest === undefined) return undefined;
  const manifest = await client.getManifest(`${repo}@${digest}`);
  if (manifest.kind !== "manifest") return undefined;
  const config = parseImageConfig(await client.getBlob(repo, manifest.manifest.config.digest), `${repo}@${digest}`);
  return { repo, layers: manifest.manifest.layers, config };
}

/**
 * A layer normalised while it streams: (gunzip,) {@link TarNormalizer}, then a deterministic gzip
 * (fixed level 9, no file name, header time 0: Node's zlib writes none). Returns the compressed
 * bytes and the diff id (sha256 of the normalised tar).
 */
async function normalizeLayer(source: Readable, gzipped: boolean, epoch: number): Promise<{ compressed: Uint8Array; diffId: string }> {
  const diff = createHash("sha256");
  const gzip = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gzip.on("data", (chunk: Buffer) => out.push(chunk));
  const finished = new Promise<void>((resolvePromise, reject) => {
    gzip.on("end", resolvePromise);
    gzip.on("error", reject);
  });
  const normalizer = new TarNormalizer(epoch, (chunk) => {
    diff.update(chunk);
    gzip.write(chunk);
  });
  const input = gzipped ? source.pipe(createGunzip()) : source;
  if (gzipped) source.on("error", (error) => input.destroy(error));
  for await (const chunk of input as AsyncIterable<Buffer>) normalizer.write(chunk);
  normalizer.end();
  gzip.end();
  await finished;
  const compressed = Buffer.concat(out);
  return { compressed: new Uint8Array(compressed.buffer, compressed.byteOffset, compressed.length), diffId: `sha256:${diff.digest("hex")}` };
}

/** How many entries `history` starts with that are `base`'s, field for field. */
function samePrefix(history: readonly object[], base: readonly object[]): number {
  const canonical = (entry: object) => JSON.stringify(Object.entries(entry).sort(([a], [b]) => a.localeCompare(b)));
  let count = 0;
  while (count < history.length && count < base.length && canonical(history[count] as object) === canonical(base[count] as object)) count += 1;
  return count;
}

/** The tag the engine's own image is pushed under before it is normalised: `<tag>.unnormalized`, shortened to fit 128 characters. */
export function stagingTag(tag: string): string {
  const suffix = ".unnormalized";
  // `docker push` adds `-<arch>` per platform (6 characters at most).
  if (tag.length + suffix.length + 6 <= 128) return `${tag}${suffix}`;
  return `unnormalized-${createHash("sha256").update(tag).digest("hex").slice(0, 16)}`;
}

/**
 * Publishes built images as one reproducible multi-platform index at `reference`
 * (`registry/repository:tag`): see the module comment. `baseAddress` is the published base the
 * images were built FROM (its layers are reused as they are); returns what the registry reports.
 */
export async function publishReproducible(
  engine: Engine,
  images: readonly BuiltImage[],
  reference: string,
  options: { epoch: number; baseAddress?: string; annotations?: PublishAnnotations; registry?: RegistryClient; log?: (line: string) => void },
): Promise<PublishResult> {
  const client = options.registry ?? new RegistryClient();
  const target = splitImageReference(reference);
  if (target.tag === undefined || target.digest !== undefined) throw new ConnectorBuildError("USAGE", `publish ${reference}: expected <registry>/<repository>:<tag> without a digest`);
  const repo = `${target.registry}/${target.repository}`;
  const created = new Date(options.epoch * 1000).toISOString().replace(".000Z", "Z");
  // The engine's own image first, under a staging tag (never the target tag: that moves last).
  const staging = stagingTag(target.tag);
  const pushed = await engine.publish(images, `${repo}:${staging}`);
  options.log?.(`reproducible: the engine's image is at ${repo}:${staging}; normalising`);
  const entries: Array<{ mediaType: string; digest: string; size: number; platform: { os: string; architecture: string } }> = [];
  const platformDigests: Partial<Record<Platform, string>> = {};
  // An engine may report the index digest only (Dagger): the registry then says each platform's manifest.
  const stagedTop = await client.getManifest(`${repo}@${pushed.digest}`);
  const stagedDigestOf = (platform: Platform): string | undefined =>
    pushed.platformDigests[platform] ??
    (stagedTop.kind === "index" ? stagedTop.manifest.manifests.find((m) => m.platform !== undefined && platformMatches(m.platform, platform))?.digest : images.length === 1 ? stagedTop.digest : undefined);
  for (const image of images) {
    const stagedDigest = stagedDigestOf(image.platform);
    if (stagedDigest === undefined) throw new ConnectorBuildError("PUBLISH_FAILED", `publish ${reference}: ${repo}:${staging} (${pushed.digest}) has no ${image.platform} manifest`);
    const staged = await client.getManifest(`${repo}@${stagedDigest}`);
    if (staged.kind !== "manifest") throw new ConnectorBuildError("PUBLISH_FAILED", `publish ${reference}: ${repo}@${stagedDigest} is an index: expected the ${image.platform} manifest`);
    const manifest = staged.manifest;
    const config = parseImageConfig(await client.getBlob(repo, manifest.config.digest), `${repo}@${stagedDigest}`);
    const platform = `${config.os}/${config.architecture}` as Platform;
    const base = options.baseAddress !== undefined ? await readBase(client, options.baseAddress, platform) : undefined;
    const layers: Array<{ mediaType: string; digest: string; size: number }> = [];
    const diffIds: string[] = [];
    let basePrefix = base !== undefined;
    for (const [i, layer] of manifest.layers.entries()) {
      const baseLayer = base?.layers[i];
      const diffId = config.rootfs.diff_ids[i];
      if (basePrefix && baseLayer !== undefined && diffId !== undefined && base?.config.rootfs.diff_ids[i] === diffId) {
        // The base's own blob, byte for byte: mounted from its repository, never read.
        if (!(await client.blobExists(repo, baseLayer.digest)) && !(await client.mountBlob(repo, baseLayer.digest, base.repo))) {
          await client.uploadBlob(repo, await client.getBlob(base.repo, baseLayer.digest));
        }
        layers.push({ mediaType: baseLayer.mediaType.includes("docker") ? OCI_LAYER_GZIP : baseLayer.mediaType, digest: baseLayer.digest, size: baseLayer.size });
        diffIds.push(diffId);
        continue;
      }
      basePrefix = false;
      const gzipped = layer.mediaType.endsWith("+gzip") || layer.mediaType.endsWith(".gzip");
      const bytes = await client.getBlob(repo, layer.digest);
      const normalized = await normalizeLayer(Readable.from([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]), gzipped, options.epoch);
      layers.push({ mediaType: OCI_LAYER_GZIP, digest: await client.uploadBlob(repo, normalized.compressed), size: normalized.compressed.byteLength });
      diffIds.push(normalized.diffId);
    }
    // The base's own history entries are kept as published when the engine kept them (Docker); an
    // engine that rewrites them (Dagger: one "import image layer" entry per layer, stamped with the
    // time it pulled the base) has its entries stamped SOURCE_DATE_EPOCH like the connector's.
    const baseHistory = base !== undefined && layers.length >= base.layers.length ? samePrefix(config.history ?? [], base.config.history ?? []) : 0;
    const { container: _container, container_config: _containerConfig, docker_version: _dockerVersion, ...kept } = config as RawImageConfig & Record<string, unknown>;
    const normalizedConfig: RawImageConfig = {
      ...kept,
      created,
      rootfs: { type: "layers", diff_ids: diffIds },
      ...(config.history !== undefined ? { history: config.history.map((h, i) => (i < baseHistory ? h : { ...h, created })) } : {}),
    };
    const configBytes = jsonBytes(normalizedConfig);
    const configDigest = await client.uploadBlob(repo, configBytes);
    const manifestAnnotations = options.annotations?.platforms?.[platform];
    const manifestBytes = jsonBytes({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: OCI_CONFIG, digest: configDigest, size: configBytes.byteLength },
      layers,
      ...(manifestAnnotations !== undefined ? { annotations: manifestAnnotations } : {}),
    });
    const digest = await client.putManifest(repo, computeDigest(manifestBytes), manifestBytes, MEDIA_TYPES.ociManifest);
    options.log?.(`reproducible ${platform}: ${digest}`);
    entries.push({ mediaType: MEDIA_TYPES.ociManifest, digest, size: manifestBytes.byteLength, platform: { os: config.os, architecture: config.architecture } });
    platformDigests[platform] = digest;
  }
  entries.sort((a, b) => `${a.platform.os}/${a.platform.architecture}`.localeCompare(`${b.platform.os}/${b.platform.architecture}`));
  const indexBytes = jsonBytes({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: entries, ...(options.annotations?.index !== undefined ? { annotations: options.annotations.index } : {}) });
  await client.putManifest(repo, target.tag, indexBytes, MEDIA_TYPES.ociIndex);
  const digest = await new RegistryClient().resolveDigest(`${repo}:${target.tag}`);
  if (digest !== computeDigest(indexBytes)) {
    throw new ConnectorBuildError("PUBLISH_FAILED", `published ${repo}:${target.tag} as ${computeDigest(indexBytes)} but the registry reports ${digest}`);
  }
  return { address: `${repo}:${target.tag}@${digest}`, digest, platformDigests };
}
