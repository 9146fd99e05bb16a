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

/** Why a {@link RegistryError} was raised. */

/** A content descriptor: what a manifest or index points to. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  /** In an index: the platform of the manifest. */
  readonly platform?: ImagePlatform;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly urls?: readonly string[];
}

/** The platform of an image, as an index entry or an image config states it. */
export interface ImagePlatform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

/** A single-platform image manifest (OCI or Docker schema 2). */
export interface ImageManifest {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>>;
}

/** A multi-platform index (OCI image index or Docker manifest list). */
export interface ImageIndex {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly manifests: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>>;
}

/** The parts of an image config blob the client reads; other fields are kept as sent. */
export interface ImageConfig {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
  readonly [field: string]: unknown;
}

interface FetchedManifestBase {
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
}
