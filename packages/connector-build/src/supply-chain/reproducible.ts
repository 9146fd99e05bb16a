/**
 * Reproducible connector images: the same inputs (connector files, base digest, lock) give the same
 * digest per platform and the same index digest, whatever the build cache holds and whenever.
 *
 * Debian's Docker 20.10 BuildKit does not rewrite timestamps (SOURCE_DATE_EPOCH support came in
 * BuildKit 0.11-0.13), so the image is normalised after the build, engine-neutrally, from the
 * engine's OCI export:
 * - layers that are the base image's (same diff id as the published base's, in order) are the
 *   base's own published blobs, byte for byte;
 * - every other layer is rewritten ({@link normalizeTar}: times clamped to SOURCE_DATE_EPOCH) and
 *   compressed with a fixed gzip setting and no name or time in the gzip header;
 * - the config's `created` and the connector's history entries say SOURCE_DATE_EPOCH (the base's
 *   entries too when the engine rewrote them, as Dagger does);
 * - Python writes its `.pyc` in checked-hash mode because every `withExec` after the base runs with
 *   `SOURCE_DATE_EPOCH` set ({@link withSourceDateEpoch}), so compiled files do not embed the
 *   install time.
 * SOURCE_DATE_EPOCH: the environment's, else the connector folder's last git commit time, else 0.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { ImageRecipe, splitImageReference, type Platform, type RecipeOperation } from "@airbyte-ci/base-images";
import type { BuiltImage, Engine, PublishAnnotations, PublishResult } from "../engines/engine.ts";
import { ConnectorBuildError, lastLines } from "../errors.ts";
import { runProcess } from "../shared/process.ts";
import { RegistryClient } from "../registry/registry-client.ts";
import { jsonBytes, parseImageConfig, type RawImageConfig } from "./image-config.ts";
import { normalizeTar } from "./tar-normalize.ts";
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

/** How many entries `history` starts with that are `base`'s, field for field. */
function samePrefix(history: readonly object[], base: readonly object[]): number {
  const canonical = (entry: object) => JSON.stringify(Object.entries(entry).sort(([a], [b]) => a.localeCompare(b)));
  let count = 0;
  while (count < history.length && count < base.length && canonical(history[count] as object) === canonical(base[count] as object)) count += 1;
  return count;
}

/** A deterministic gzip: fixed level, no file name, header time 0 (Node's zlib writes none). */
function gzip(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(gzipSync(bytes, { level: 9 }));
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
  const work = mkdtempSync(join(tmpdir(), "airbyte-ci-reproducible-"));
  try {
    const file = join(work, "image.tar");
    await engine.exportOci(images, file);
    const layout = join(work, "layout");
    const untar = await runProcess("sh", ["-c", 'mkdir -p "$1" && tar -xf "$2" -C "$1"', "sh", layout, file]);
    if (untar.exitCode !== 0) throw new ConnectorBuildError("EXPORT_FAILED", `cannot unpack the OCI export: ${lastLines(untar.stderr, 3)}`);
    const blob = (digest: string) => new Uint8Array(readFileSync(join(layout, "blobs", "sha256", digest.slice(7))));
    const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")) as { manifests: Array<{ digest: string; platform?: { os: string; architecture: string } }> };
    const entries: Array<{ mediaType: string; digest: string; size: number; platform: { os: string; architecture: string } }> = [];
    const platformDigests: Partial<Record<Platform, string>> = {};
    for (const entry of index.manifests) {
      const manifest = JSON.parse(Buffer.from(blob(entry.digest)).toString("utf8")) as { config: { digest: string }; layers: Array<{ digest: string; mediaType: string }> };
      const config = parseImageConfig(blob(manifest.config.digest), `exported ${entry.digest}`);
      const platform = `${config.os}/${config.architecture}` as Platform;
      const base = options.baseAddress !== undefined ? await readBase(client, options.baseAddress, platform) : undefined;
      const layers: Array<{ mediaType: string; digest: string; size: number }> = [];
      const diffIds: string[] = [];
      let basePrefix = base !== undefined;
      for (const [i, layer] of manifest.layers.entries()) {
        const raw = blob(layer.digest);
        const tar = layer.mediaType.endsWith("+gzip") || layer.mediaType.endsWith(".gzip") ? new Uint8Array(gunzipSync(raw)) : raw;
        const diffId = computeDigest(tar);
        const baseLayer = base?.layers[i];
        if (basePrefix && baseLayer !== undefined && base?.config.rootfs.diff_ids[i] === diffId) {
          // The base's own blob, byte for byte: mounted from its repository.
          if (!(await client.blobExists(repo, baseLayer.digest)) && !(await client.mountBlob(repo, baseLayer.digest, base.repo))) {
            await client.uploadBlob(repo, await client.getBlob(base.repo, baseLayer.digest));
          }
          layers.push({ mediaType: baseLayer.mediaType.includes("docker") ? OCI_LAYER_GZIP : baseLayer.mediaType, digest: baseLayer.digest, size: baseLayer.size });
          diffIds.push(diffId);
          continue;
        }
        basePrefix = false;
        const normalized = normalizeTar(tar, options.epoch);
        const compressed = gzip(normalized);
        layers.push({ mediaType: OCI_LAYER_GZIP, digest: await client.uploadBlob(repo, compressed), size: compressed.byteLength });
        diffIds.push(computeDigest(normalized));
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
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
