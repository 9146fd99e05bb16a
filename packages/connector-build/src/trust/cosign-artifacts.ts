/**
 * Where cosign keeps signatures and attestations in a registry (its "tag" layout, which every
 * registry serves, the local one included): beside image `<repo>@sha256:<hex>`,
 *   - `<repo>:sha256-<hex>.sig`: an OCI manifest whose layers are simple-signing payloads
 *     (`application/vnd.dev.cosign.simplesigning.v1+json`), each with its base64 signature in the
 *     `dev.cosignproject.cosign/signature` annotation;
 *   - `<repo>:sha256-<hex>.att`: the same shape, layers being DSSE envelopes
 *     (`application/vnd.dsse.envelope.v1+json`), the signature annotation empty (the signature is
 *     inside the envelope) and a `predicateType` annotation.
 * Written by hand on the RegistryClient: @sigstore/oci attaches Sigstore bundles as OCI 1.1
 * referrers, a layout cosign's `verify --key` with the classic format does not read.
 */
import { MEDIA_TYPES, type RegistryClient } from "../registry/registry-client.ts";

/** Media types and annotations of cosign's layout. */
export const COSIGN = {
  simpleSigning: "application/vnd.dev.cosign.simplesigning.v1+json",
  dsseEnvelope: "application/vnd.dsse.envelope.v1+json",
  signatureAnnotation: "dev.cosignproject.cosign/signature",
  predicateTypeAnnotation: "predicateType",
  imageConfig: "application/vnd.oci.image.config.v1+json",
} as const;

/** `sig` (signatures) or `att` (attestations). */
export type CosignArtifactKind = "sig" | "att";

/** The tag of the signatures or attestations of `digest`: `sha256-<hex>.sig` / `.att`. */
export function cosignTag(digest: string, kind: CosignArtifactKind): string {
  return `${digest.replace(":", "-")}.${kind}`;
}

/** One layer of a `.sig` or `.att` manifest. */
export interface CosignLayer {
  readonly mediaType: string;
  readonly bytes: Uint8Array;
  readonly annotations: Readonly<Record<string, string>>;
}

/** A layer as read back: its descriptor's annotations and its bytes. */
export interface ReadCosignLayer extends CosignLayer {
  readonly digest: string;
}

/**
 * Adds `layers` to the `.sig`/`.att` manifest of `digest` in `repository` (created when absent),
 * keeping the layers already there (other signers, other predicates) except those `replaces` says
 * are superseded; returns the address of the pushed manifest.
 */
export async function appendCosignLayers(
  client: RegistryClient,
  repository: string,
  digest: string,
  kind: CosignArtifactKind,
  layers: readonly CosignLayer[],
  replaces: (existing: { mediaType: string; annotations: Readonly<Record<string, string>> }) => boolean = () => false,
): Promise<string> {
  const tag = cosignTag(digest, kind);
  const kept: Array<{ mediaType: string; digest: string; size: number; annotations: Readonly<Record<string, string>> }> = [];
  if (await client.tagExists(repository, tag)) {
    const existing = await client.getManifest(`${repository}:${tag}`);
    if (existing.kind === "manifest") {
      for (const layer of existing.manifest.layers) {
        const annotations = layer.annotations ?? {};
        if (!replaces({ mediaType: layer.mediaType, annotations })) kept.push({ mediaType: layer.mediaType, digest: layer.digest, size: layer.size, annotations });
      }
    }
  }
  for (const layer of layers) {
    const layerDigest = await client.uploadBlob(repository, layer.bytes);
    const descriptor = { mediaType: layer.mediaType, digest: layerDigest, size: layer.bytes.byteLength, annotations: { ...layer.annotations } };
    // The same layer with the same annotations is there once (cosign's own dedup).
    const same = kept.findIndex((k) => k.digest === layerDigest && JSON.stringify(k.annotations) === JSON.stringify(descriptor.annotations));
    if (same >= 0) kept.splice(same, 1);
    kept.push(descriptor);
  }
  // cosign's config: an empty image whose rootfs lists the layers (cosign itself never reads it).
  const config = new TextEncoder().encode(
    JSON.stringify({
      architecture: "",
      created: "0001-01-01T00:00:00Z",
      history: kept.map(() => ({ created: "0001-01-01T00:00:00Z" })),
      os: "",
      rootfs: { type: "layers", diff_ids: kept.map((l) => l.digest) },
      config: {},
    }),
  );
  const configDigest = await client.uploadBlob(repository, config);
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: COSIGN.imageConfig, size: config.byteLength, digest: configDigest },
    layers: kept,
  };
  const bytes = new TextEncoder().encode(JSON.stringify(manifest));
  const pushed = await client.putManifest(repository, tag, bytes, MEDIA_TYPES.ociManifest);
  return `${repository}:${tag}@${pushed}`;
}

/** The layers of the `.sig`/`.att` manifest of `digest`, with their bytes; empty when there is none. */
export async function readCosignLayers(client: RegistryClient, repository: string, digest: string, kind: CosignArtifactKind, mediaType: string): Promise<ReadCosignLayer[]> {
  const tag = cosignTag(digest, kind);
  if (!(await client.tagExists(repository, tag))) return [];
  const fetched = await client.getManifest(`${repository}:${tag}`);
  if (fetched.kind !== "manifest") return [];
  const layers: ReadCosignLayer[] = [];
  for (const layer of fetched.manifest.layers) {
    if (layer.mediaType !== mediaType) continue;
    layers.push({ mediaType: layer.mediaType, digest: layer.digest, annotations: layer.annotations ?? {}, bytes: await client.getBlob(repository, layer.digest) });
  }
  return layers;
}
