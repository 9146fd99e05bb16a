import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConnectorBuildError } from "../../errors.ts";
import { OciLayout } from "../../registry/oci-layout.ts";
import { MEDIA_TYPES, type Descriptor, type ImageIndex } from "../../registry/oci-types.ts";
import { registerCleanup } from "../../shared/cleanup.ts";

/**
 * Rewrites the `index.json` of an OCI tarball Dagger exported into the shape the Docker engine writes:
 * one descriptor per platform manifest, each with its platform. Dagger writes a lone manifest without
 * a platform, and several platforms as one nested index; readers that pick a platform from
 * `index.json` (`tar -xOf … index.json`, `skopeo --override-arch`) then find none. Blobs are kept as
 * they are (a nested index stays as an unreferenced blob).
 */
export async function flattenOciIndex(tarball: string, tmpDir: string = tmpdir()): Promise<void> {
  const work = mkdtempSync(join(tmpDir, "airbyte-ci-oci-"));
  const unregister = registerCleanup(() => rmSync(work, { recursive: true, force: true }));
  try {
    const layout = await OciLayout.unpack(tarball, work);
    const index = layout.index();
    const manifests: Descriptor[] = [];
    const visit = (d: Descriptor, depth: number): void => {
      if (d.mediaType === MEDIA_TYPES.ociIndex) {
        if (depth > 3) throw new ConnectorBuildError("EXPORT_FAILED", `the OCI tarball ${tarball} nests indexes more than 3 deep`);
        for (const inner of layout.json<Partial<ImageIndex>>(d.digest).manifests ?? []) visit(inner, depth + 1);
        return;
      }
      if (d.platform) {
        manifests.push(d);
        return;
      }
      const config = layout.config(layout.manifest(d.digest).config.digest);
      manifests.push({ ...d, platform: { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) } });
    };
    for (const d of index.manifests ?? []) visit(d, 0);
    layout.writeIndex(manifests, index);
    await layout.pack(tarball, "plain");
  } finally {
    unregister();
    rmSync(work, { recursive: true, force: true });
  }
}
