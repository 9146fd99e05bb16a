/**
 * The pure part of a rebase: given one platform's connector image (manifest + config), the base it
 * was built on and the base to move to, the new manifest and config. No I/O, so every rule is
 * unit-tested; `rebase.ts` does the registry and engine work around it.
 *
 * The connector's own layers, its history entries, and every setting it made stay byte for byte;
 * only the base's share of the image changes:
 * - layers and `rootfs.diff_ids`: the old base's prefix (verified equal) is replaced by the new base's;
 * - history: the old base's entries (verified equal by `created_by`) are replaced by the new base's;
 * - environment, labels, entrypoint, cmd, workdir, user, …: what the image still holds at the old
 *   base's value was inherited, so it follows the new base (a variable the new base dropped is
 *   dropped); what the connector set is kept;
 * - labels `org.opencontainers.image.base.name`/`.base.digest` (and the same manifest annotations,
 *   when present) name the new base.
 */
import { ConnectorBuildError } from "../errors.ts";
import { envMap, jsonBytes, layerMediaTypeFor } from "./image-config.ts";
import type { Descriptor, ImageConfig, ImageManifest, RuntimeConfig } from "../registry/oci-types.ts";
import { BASE_DIGEST_KEY, BASE_NAME_KEY } from "../connector/published-base.ts";
import { computeDigest } from "../registry/platforms.ts";

/** One platform's image: its manifest (with the media type it is served as) and config. */
export interface PlatformImage {
  readonly mediaType: string;
  readonly manifest: ImageManifest;
  readonly config: ImageConfig;
}

/** What the rebased image should say about its base. */
export interface BaseReference {
  /** `registry/repository:tag` of the new base. */
  readonly name: string;
  /** Digest written to the base.digest label/annotation (the new base's index digest, or its platform manifest's when the image used that convention). */
  readonly digest: string;
}

/** The result of {@link rebasePlatformImage}. */
export interface RebasedPlatformImage {
  readonly manifest: ImageManifest;
  readonly manifestBytes: Uint8Array;
  readonly manifestDigest: string;
  readonly config: ImageConfig;
  readonly configBytes: Uint8Array;
  readonly configDigest: string;
  /** Layers of the new base at the start of the image. */
  readonly baseLayers: readonly Descriptor[];
  /** The connector's own layers, unchanged. */
  readonly connectorLayers: readonly Descriptor[];
}

/** Why an image is not on a base, or `undefined` when its layers, diff ids and history start with the base's. */
export function baseMismatch(image: PlatformImage, base: PlatformImage): string | undefined {
  const baseLayers = base.manifest.layers;
  const layers = image.manifest.layers;
  if (layers.length < baseLayers.length) return `the image has ${layers.length} layers, fewer than the base's ${baseLayers.length}`;
  for (const [i, layer] of baseLayers.entries()) {
    if (layers[i]?.digest !== layer.digest) return `layer ${i} is ${layers[i]?.digest} where the base has ${layer.digest}`;
  }
  const baseDiffIds = base.config.rootfs.diff_ids;
  for (const [i, diffId] of baseDiffIds.entries()) {
    if (image.config.rootfs.diff_ids[i] !== diffId) return `rootfs.diff_ids[${i}] is ${image.config.rootfs.diff_ids[i]} where the base has ${diffId}`;
  }
  const baseHistory = base.config.history ?? [];
  const history = image.config.history ?? [];
  if (baseHistory.length > 0) {
    if (history.length < baseHistory.length) return `the image has ${history.length} history entries, fewer than the base's ${baseHistory.length}`;
    for (const [i, entry] of baseHistory.entries()) {
      const own = history[i];
      if (own?.created_by !== entry.created_by || Boolean(own?.empty_layer) !== Boolean(entry.empty_layer)) {
        return `history entry ${i} is '${own?.created_by}' where the base has '${entry.created_by}'`;
      }
    }
  }
  return undefined;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** The environment of the rebased image: the new base's, with every variable the connector set (or added) kept. */
export function rebaseEnv(image: readonly string[] | null | undefined, oldBase: readonly string[] | null | undefined, newBase: readonly string[] | null | undefined): string[] {
  const own = envMap(image);
  const old = envMap(oldBase);
  const next = envMap(newBase);
  const setByConnector = (name: string) => own.has(name) && (!old.has(name) || old.get(name) !== own.get(name));
  const result: string[] = [];
  for (const [name, value] of next) result.push(`${name}=${setByConnector(name) ? own.get(name) : value}`);
  for (const [name, value] of own) {
    if (next.has(name)) continue;
    if (setByConnector(name)) result.push(`${name}=${value}`);
  }
  return result;
}

/** The labels of the rebased image, by the same rule as {@link rebaseEnv}, then the base labels. */
export function rebaseLabels(
  image: Readonly<Record<string, string>> | null | undefined,
  oldBase: Readonly<Record<string, string>> | null | undefined,
  newBase: Readonly<Record<string, string>> | null | undefined,
  base: BaseReference,
): Record<string, string> {
  const own = image ?? {};
  const old = oldBase ?? {};
  const next = newBase ?? {};
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(own)) {
    const inherited = name in old && old[name] === value;
    if (!inherited) result[name] = value;
    else if (name in next) result[name] = next[name] as string;
  }
  for (const [name, value] of Object.entries(next)) if (!(name in result) && !(name in own)) result[name] = value;
  result[BASE_NAME_KEY] = base.name;
  result[BASE_DIGEST_KEY] = base.digest;
  return result;
}

/** Runtime settings other than Env and Labels: inherited ones follow the new base. */
function rebaseRuntime(image: RuntimeConfig | undefined, oldBase: RuntimeConfig | undefined, newBase: RuntimeConfig | undefined, base: BaseReference): RuntimeConfig {
  const own = image ?? {};
  const old = oldBase ?? {};
  const next = newBase ?? {};
  const result: RuntimeConfig = {};
  const names = new Set([...Object.keys(own), ...Object.keys(next)]);
  for (const name of names) {
    if (name === "Env") result.Env = rebaseEnv(own.Env, old.Env, next.Env);
    else if (name === "Labels") result.Labels = rebaseLabels(own.Labels, old.Labels, next.Labels, base);
    else if (!(name in own)) {
      if (!(name in old)) result[name] = next[name];
    } else if (sameJson(own[name], old[name])) {
      if (name in next) result[name] = next[name];
    } else result[name] = own[name];
  }
  if (!("Labels" in result)) result.Labels = rebaseLabels(undefined, undefined, undefined, base);
  return result;
}

/**
 * Rebases one platform's image from `oldBase` onto `newBase`. Refuses (REBASE_REFUSED) an image that
 * does not start with `oldBase`'s layers, diff ids and history, or whose platform differs.
 */
export function rebasePlatformImage(image: PlatformImage, oldBase: PlatformImage, newBase: PlatformImage, base: BaseReference, where: string): RebasedPlatformImage {
  const mismatch = baseMismatch(image, oldBase);
  if (mismatch !== undefined) {
    throw new ConnectorBuildError("REBASE_REFUSED", `${where}: the image does not start with its base image's layers (${mismatch}): expected an image built FROM that base`);
  }
  for (const [what, b] of [["old", oldBase], ["new", newBase]] as const) {
    if (b.config.os !== image.config.os || b.config.architecture !== image.config.architecture) {
      throw new ConnectorBuildError(
        "REBASE_REFUSED",
        `${where}: the ${what} base is ${b.config.os}/${b.config.architecture} but the image is ${image.config.os}/${image.config.architecture}: expected the same platform`,
      );
    }
  }
  const oldLayerCount = oldBase.manifest.layers.length;
  const oldHistoryCount = (oldBase.config.history ?? []).length;
  const config: ImageConfig = {
    ...image.config,
    config: rebaseRuntime(image.config.config, oldBase.config.config, newBase.config.config, base),
    rootfs: { ...image.config.rootfs, diff_ids: [...newBase.config.rootfs.diff_ids, ...image.config.rootfs.diff_ids.slice(oldLayerCount)] },
  };
  if (image.config.history !== undefined) {
    config.history = [...(newBase.config.history ?? []), ...image.config.history.slice(oldHistoryCount)];
  }
  const configBytes = jsonBytes(config);
  const configDigest = computeDigest(configBytes);
  const baseLayers = newBase.manifest.layers.map((layer) => ({ ...layer, mediaType: layerMediaTypeFor(layer.mediaType, image.mediaType, where) }));
  const connectorLayers = image.manifest.layers.slice(oldLayerCount);
  const annotations = image.manifest.annotations;
  const manifest: ImageManifest = {
    ...image.manifest,
    config: { ...image.manifest.config, digest: configDigest, size: configBytes.byteLength },
    layers: [...baseLayers, ...connectorLayers],
    ...(annotations !== undefined ? { annotations: rebaseAnnotations(annotations, base) } : {}),
  };
  const manifestBytes = jsonBytes(manifest);
  return { manifest, manifestBytes, manifestDigest: computeDigest(manifestBytes), config, configBytes, configDigest, baseLayers, connectorLayers };
}

/** Manifest or index annotations with the base annotations, when present, naming the new base. */
export function rebaseAnnotations(annotations: Readonly<Record<string, string>>, base: BaseReference): Record<string, string> {
  const result = { ...annotations };
  if (BASE_NAME_KEY in result) result[BASE_NAME_KEY] = base.name;
  if (BASE_DIGEST_KEY in result) result[BASE_DIGEST_KEY] = base.digest;
  return result;
}
