/**
 * Image configs and manifests as the registry stores them (OCI image config / Docker image config
 * v1), read loosely: fields this toolkit does not know are kept as they were, so a rewritten config
 * differs from the original only where it was meant to.
 */
import { ConnectorBuildError } from "../errors.ts";

/** One entry of an image config's `history`. */
export interface HistoryEntry {
  readonly created?: string;
  readonly created_by?: string;
  readonly comment?: string;
  readonly author?: string;
  readonly empty_layer?: boolean;
  readonly [field: string]: unknown;
}

/** The runtime part of an image config (`config`), Docker's capitalised names. */
export interface RuntimeConfig {
  Env?: string[] | null;
  Labels?: Record<string, string> | null;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  WorkingDir?: string;
  User?: string;
  [field: string]: unknown;
}

/** A whole image config blob. */
export interface RawImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  config?: RuntimeConfig;
  rootfs: { type: string; diff_ids: string[] };
  history?: HistoryEntry[];
  [field: string]: unknown;
}

/** Parses a config blob; `where` names it in errors. */
export function parseImageConfig(bytes: Uint8Array, where: string): RawImageConfig {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (error) {
    throw new ConnectorBuildError("REGISTRY_ERROR", `${where}: the image config is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const c = json as Partial<RawImageConfig> | null;
  if (c === null || typeof c !== "object" || typeof c.os !== "string" || typeof c.architecture !== "string" || !Array.isArray(c.rootfs?.diff_ids)) {
    throw new ConnectorBuildError("REGISTRY_ERROR", `${where}: not an image config: expected JSON with os, architecture and rootfs.diff_ids`);
  }
  return c as RawImageConfig;
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
