import { MEDIA_TYPES, type Descriptor, type ImageManifest } from "../../registry/oci-types.ts";

/** Docker schema 2 media types and their OCI equivalents (same bytes, other name). */
const OCI_MEDIA_TYPE: Readonly<Record<string, string>> = {
  "application/vnd.docker.container.image.v1+json": "application/vnd.oci.image.config.v1+json",
  "application/vnd.docker.image.rootfs.diff.tar.gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
  "application/vnd.docker.image.rootfs.diff.tar": "application/vnd.oci.image.layer.v1.tar",
  "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip": "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
};

function ociDescriptor(d: Descriptor): Descriptor {
  return {
    mediaType: OCI_MEDIA_TYPE[d.mediaType] ?? d.mediaType,
    digest: d.digest,
    size: d.size,
    ...(d.urls !== undefined ? { urls: d.urls } : {}),
    ...(d.annotations !== undefined ? { annotations: d.annotations } : {}),
  };
}

/**
 * An OCI image manifest for the same config and layer blobs as `manifest` (Docker schema 2 or OCI),
 * with `annotations` added to its own. Docker schema 2 has no annotations, hence the OCI form; the
 * blobs are untouched, so layer digests (and the base image's layers at their head) stay the same.
 */
export function annotatedOciManifest(manifest: ImageManifest, annotations: Readonly<Record<string, string>>): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: ociDescriptor(manifest.config),
    layers: manifest.layers.map(ociDescriptor),
    annotations: { ...(manifest.annotations ?? {}), ...annotations },
  });
}
