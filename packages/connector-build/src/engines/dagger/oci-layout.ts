import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConnectorBuildError, lastLines } from "../../errors.ts";
import { runProcess } from "../../shared/process.ts";
import { registerCleanup } from "../../shared/cleanup.ts";

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}

const INDEX = "application/vnd.oci.image.index.v1+json";

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
    const untar = await runProcess("tar", ["-xf", tarball, "-C", work]);
    if (untar.exitCode !== 0) throw new ConnectorBuildError("EXPORT_FAILED", `cannot unpack the OCI tarball ${tarball}: ${lastLines(untar.stderr, 5)}`);
    const blob = (digest: string) => JSON.parse(readFileSync(join(work, "blobs", ...digest.split(":")), "utf8")) as Record<string, unknown>;
    const top = JSON.parse(readFileSync(join(work, "index.json"), "utf8")) as { manifests?: Descriptor[] } & Record<string, unknown>;
    const manifests: Descriptor[] = [];
    const visit = (d: Descriptor, depth: number): void => {
      if (d.mediaType === INDEX) {
        if (depth > 3) throw new ConnectorBuildError("EXPORT_FAILED", `the OCI tarball ${tarball} nests indexes more than 3 deep`);
        for (const inner of (blob(d.digest).manifests as Descriptor[] | undefined) ?? []) visit(inner, depth + 1);
        return;
      }
      if (d.platform) {
        manifests.push(d);
        return;
      }
      const config = blob((blob(d.digest).config as { digest: string }).digest) as { os?: string; architecture?: string; variant?: string };
      if (!config.os || !config.architecture) throw new ConnectorBuildError("EXPORT_FAILED", `manifest ${d.digest} in ${tarball} has a config without os/architecture`);
      manifests.push({ ...d, platform: { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) } });
    };
    for (const d of top.manifests ?? []) visit(d, 0);
    writeFileSync(join(work, "index.json"), JSON.stringify({ ...top, schemaVersion: 2, mediaType: INDEX, manifests }));
    const tar = await runProcess("tar", ["-cf", tarball, "-C", work, ...readdirSync(work).sort()]);
    if (tar.exitCode !== 0) throw new ConnectorBuildError("EXPORT_FAILED", `cannot write the OCI tarball ${tarball}: ${lastLines(tar.stderr, 5)}`);
  } finally {
    unregister();
    rmSync(work, { recursive: true, force: true });
  }
}
