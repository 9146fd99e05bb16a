import type { Platform } from "@airbyte-ci/base-images";

/** Manifest media types the client reads and writes. */
export const MEDIA_TYPES = {
  /** OCI image index (multi-platform). */
  ociIndex: "application/vnd.oci.image.index.v1+json",
  /** OCI image manifest (one platform). */
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  /** Docker manifest list (multi-platform). */
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  /** Docker image manifest, schema 2 (one platform). */
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
} as const;

export const INDEX_MEDIA_TYPES: readonly string[] = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList];
export const MANIFEST_MEDIA_TYPES: readonly string[] = [MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest];
export const ACCEPT_MANIFESTS = [
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifestList,
  MEDIA_TYPES.dockerManifest,
].join(", ");

/** OCI media types of what a manifest points to. */
export const OCI_MEDIA_TYPES = {
  /** OCI image config. */
  config: "application/vnd.oci.image.config.v1+json",
  /** Uncompressed layer. */
  layer: "application/vnd.oci.image.layer.v1.tar",
  /** Gzip-compressed layer. */
  layerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
} as const;

/**
 * A content descriptor: what a manifest or index points to. Fields this toolkit does not know
 * (`data`, `artifactType`, …) are kept as they were.
 */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  /** In an index: the platform of the manifest. */
  readonly platform?: ImagePlatform;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly urls?: readonly string[];
  readonly [field: string]: unknown;
}

/** The platform of an image, as an index entry or an image config states it. */
export interface ImagePlatform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

/** A single-platform image manifest (OCI or Docker schema 2); unknown fields are kept as they were. */
export interface ImageManifest {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>>;
  readonly [field: string]: unknown;
}

/** A multi-platform index (OCI image index or Docker manifest list); unknown fields are kept as they were. */
export interface ImageIndex {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly manifests: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>>;
  readonly [field: string]: unknown;
}

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

/**
 * An image config blob (OCI image config / Docker image config v1), read loosely: fields this
 * toolkit does not know are kept as they were, so a rewritten config differs from the original only
 * where it was meant to.
 */
export interface ImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  config?: RuntimeConfig;
  rootfs: { type: string; diff_ids: string[] };
  history?: HistoryEntry[];
  [field: string]: unknown;
}

export interface FetchedManifestBase {
  /** Registry host as named in the reference. */
  readonly registry: string;
  /** Repository in the registry. */
  readonly repository: string;
  /** Digest of the exact bytes, as the registry reported it and as verified. */
  readonly digest: string;
  /** Media type (Content-Type, else the document's `mediaType`). */
  readonly mediaType: string;
  /** Size in bytes. */
  readonly size: number;
  /** The exact bytes; the digest is over these. Do not mutate: they are cached. */
  readonly bytes: Uint8Array;
}

/** A manifest or index as fetched: `kind` tells which. */
export type FetchedManifest =
  | (FetchedManifestBase & { readonly kind: "manifest"; readonly manifest: ImageManifest })
  | (FetchedManifestBase & { readonly kind: "index"; readonly manifest: ImageIndex });

/** One per-platform manifest to list in an index made by {@link RegistryClient.putIndex}. */
export interface IndexEntry {
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  /** `linux/amd64`-style platform, or the OCI platform object. */
  readonly platform: Platform | ImagePlatform;
}

/** Options of {@link RegistryClient.putIndex}. */
export interface PutIndexOptions {
  /**
   * `oci` (OCI image index), `docker` (Docker manifest list), or `auto` (default): a Docker manifest
   * list when every entry is a Docker schema 2 manifest, an OCI index otherwise.
   */
  readonly format?: "oci" | "docker" | "auto";
  /** Index annotations (OCI only). */
  readonly annotations?: Readonly<Record<string, string>>;
  /** Check each entry's platform against its image config before pushing. Default: true. */
  readonly verifyPlatforms?: boolean;
  /** Push the index by its digest only, leaving `tag` where it is (the caller moves it later). Default: false. */
  readonly untagged?: boolean;
}
