/**
 * Reading and writing image configs and manifests as the registry stores them; the types
 * ({@link ImageConfig}, `ImageManifest`, `Descriptor`) are the OCI ones of `registry/oci-types.ts`.
 */
import { ConnectorBuildError } from "../errors.ts";
import type { ImageConfig } from "../registry/oci-types.ts";

/**
 * The image config type of `registry/oci-types.ts` under its former name here.
 * @deprecated use `ImageConfig` from `registry/oci-types.ts`; kept while `reproducible.ts` still imports it.
 */
export type RawImageConfig = ImageConfig;

/** Parses a config blob; `where` names it in errors. */
export function parseImageConfig(bytes: Uint8Array, where: string): ImageConfig {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (error) {
    throw new ConnectorBuildError("REGISTRY_ERROR", `${where}: the image config is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const c = json as Partial<ImageConfig> | null;
  if (c === null || typeof c !== "object" || typeof c.os !== "string" || typeof c.architecture !== "string" || !Array.isArray(c.rootfs?.diff_ids)) {
    throw new ConnectorBuildError("REGISTRY_ERROR", `${where}: not an image config: expected JSON with os, architecture and rootfs.diff_ids`);
  }
  return c as ImageConfig;
}

/** `["A=1", "B=2"]` → `Map { A → 1, B → 2 }`, in order; a name without `=` has an empty value. */
export function envMap(env: readonly string[] | null | undefined): Map<string, string> {
  const map = new Map<string, string>();
  for (const entry of env ?? []) {
    const eq = entry.indexOf("=");
    map.set(eq < 0 ? entry : entry.slice(0, eq), eq < 0 ? "" : entry.slice(eq + 1));
  }
  return map;
}

/** Stable JSON bytes of a document (insertion order kept, no whitespace), as pushed. */
export function jsonBytes(document: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(document));
}

const LAYER_TYPE_PAIRS: ReadonlyArray<readonly [docker: string, oci: string]> = [
  ["application/vnd.docker.image.rootfs.diff.tar.gzip", "application/vnd.oci.image.layer.v1.tar+gzip"],
  ["application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"],
];

/**
 * The media type a layer has in a manifest of `manifestMediaType`: a Docker schema 2 manifest lists
 * Docker layer types, an OCI manifest OCI ones (the same bytes either way). Unconvertible types
 * (zstd in a Docker manifest) are refused.
 */
export function layerMediaTypeFor(layerMediaType: string, manifestMediaType: string, where: string): string {
  const docker = manifestMediaType === "application/vnd.docker.distribution.manifest.v2+json";
  for (const [d, o] of LAYER_TYPE_PAIRS) {
    if (layerMediaType === d || layerMediaType === o) return docker ? d : o;
  }
  if (!docker) return layerMediaType;
  throw new ConnectorBuildError(
    "REGISTRY_ERROR",
    `${where}: layer media type ${layerMediaType} cannot be listed in a Docker schema 2 manifest: expected gzip layers (or an OCI manifest)`,
  );
}
