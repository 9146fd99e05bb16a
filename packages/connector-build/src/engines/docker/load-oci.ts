import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SUPPORTED_PLATFORMS, isPlatform, type Platform } from "@airbyte-ci/base-images";
import { ConnectorBuildError, lastLines } from "../../errors.ts";
import { runProcess } from "../../shared/process.ts";
import type { ImportedOci, ImportedOciImage } from "../engine.ts";
import { docker } from "./docker-client.ts";

interface Descriptor {
  mediaType?: string;
  digest: string;
  platform?: { os: string; architecture: string };
  annotations?: Record<string, string>;
}

const INDEX_TYPES = new Set(["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"]);
const DIGEST = /^sha256:[0-9a-f]{64}$/;

function readJson<T>(path: string, what: string, file: string): T {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch (error) {
    throw new ConnectorBuildError("USAGE", `oci:${file}: ${what} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): expected an OCI image layout tarball (index.json and blobs/sha256/)`);
  }
}

function blobPath(layout: string, digest: string, file: string): string {
  if (!DIGEST.test(digest)) throw new ConnectorBuildError("USAGE", `oci:${file}: ${JSON.stringify(digest)} is not a sha256 digest: expected an OCI image layout`);
  return join(layout, "blobs", "sha256", digest.slice(7));
}

/** The image manifests of an OCI layout (through nested indexes), with their platforms. */
function layoutManifests(layout: string, file: string): Array<{ digest: string; platform: string; config: string; layers: string[]; refName?: string }> {
  const found: Array<{ digest: string; platform: string; config: string; layers: string[]; refName?: string }> = [];
  const visit = (index: { manifests?: Descriptor[] }, depth: number, refName?: string) => {
    for (const d of index.manifests ?? []) {
      const name = d.annotations?.["org.opencontainers.image.ref.name"] ?? refName;
      const blob = readJson<{ mediaType?: string; manifests?: Descriptor[]; config?: { digest: string }; layers?: Array<{ digest: string }> }>(blobPath(layout, d.digest, file), `blob ${d.digest}`, file);
      if (INDEX_TYPES.has(d.mediaType ?? blob.mediaType ?? "") || blob.manifests !== undefined) {
        if (depth < 3) visit(blob, depth + 1, name);
        continue;
      }
      if (blob.config === undefined) continue;
      let platform = d.platform ? `${d.platform.os}/${d.platform.architecture}` : undefined;
      if (platform === undefined) {
        const config = readJson<{ os?: string; architecture?: string }>(blobPath(layout, blob.config.digest, file), `config ${blob.config.digest}`, file);
        platform = `${config.os ?? "?"}/${config.architecture ?? "?"}`;
      }
      found.push({ digest: d.digest, platform, config: blob.config.digest, layers: (blob.layers ?? []).map((l) => l.digest), ...(name !== undefined ? { refName: name } : {}) });
    }
  };
  visit(readJson(join(layout, "index.json"), "index.json", file), 0);
  return found;
}

async function localImageId(id: string): Promise<boolean> {
  return (await docker(["image", "inspect", "--format", "{{.Id}}", id])).exitCode === 0;
}

/**
 * Reads the images of an OCI image layout, as a tarball (what `build --output oci:` writes, or
 * skopeo, buildx and Dagger exports) or a folder, into the local Docker, one per platform, without
 * a registry: each manifest is handed to `docker load` as a `docker save` archive of the same blobs. An image the
 * local Docker already holds (same config digest, which is its image id) is used as it is;
 * {@link ImportedOci.release} removes the images this call loaded.
 *
 * @throws ConnectorBuildError `USAGE` when the file is not such a tarball or holds no image for
 *   `platform` (or for linux/amd64 and linux/arm64); `EXPORT_FAILED` when `docker load` refuses it.
 */
export async function importOciTarball(file: string, options: { platform?: Platform; workRoot?: string } = {}): Promise<ImportedOci> {
  const isLayoutDir = existsSync(file) && statSync(file).isDirectory() && existsSync(join(file, "index.json"));
  if (!isLayoutDir && (!existsSync(file) || !statSync(file).isFile())) {
    throw new ConnectorBuildError("USAGE", `oci:${file}: no such file: expected an OCI image layout tarball (build --output oci:<file> writes one) or an OCI layout folder`);
  }
  const work = mkdtempSync(join(options.workRoot ?? tmpdir(), "airbyte-ci-oci-read-"));
  const loaded: string[] = [];
  const release = async () => {
    for (const id of loaded.splice(0)) await docker(["image", "rm", "--no-prune", id]);
  };
  try {
    // A layout folder is read in place (nothing is written into it); a tarball is unpacked first.
    const layout = isLayoutDir ? file : join(work, "layout");
    if (!isLayoutDir) {
      mkdirSync(layout);
      const untar = await runProcess("tar", ["-xf", file, "-C", layout]);
      if (untar.exitCode !== 0) throw new ConnectorBuildError("USAGE", `oci:${file}: cannot be unpacked as a tar archive (${lastLines(untar.stderr, 2)}): expected an OCI image layout tarball`);
    }
    if (!existsSync(join(layout, "index.json"))) throw new ConnectorBuildError("USAGE", `oci:${file}: no index.json: expected an OCI image layout tarball (index.json and blobs/sha256/)`);
    const all = layoutManifests(layout, file);
    const wanted = all.filter((m) => isPlatform(m.platform) && (options.platform === undefined || m.platform === options.platform));
    if (wanted.length === 0) {
      throw new ConnectorBuildError(
        "USAGE",
        `oci:${file} holds no ${options.platform ?? SUPPORTED_PLATFORMS.join(" or ")} image (found: ${all.map((m) => m.platform).join(", ") || "no image manifest"})`,
      );
    }
    const images: ImportedOciImage[] = [];
    for (const m of wanted) {
      const platform = m.platform as Platform;
      if (!(await localImageId(m.config))) {
        // A `docker save` archive of the same blobs: manifest.json naming the config and the layers.
        writeFileSync(join(work, "manifest.json"), JSON.stringify([{ Config: `blobs/sha256/${m.config.slice(7)}`, RepoTags: null, Layers: m.layers.map((l) => `blobs/sha256/${l.slice(7)}`) }]));
        const archive = join(work, "load.tar");
        const blobs = [...new Set([m.config, ...m.layers])].map((d) => `blobs/sha256/${d.slice(7)}`);
        const tar = await runProcess("tar", ["-cf", archive, "-C", work, "manifest.json", "-C", layout, ...blobs]);
        if (tar.exitCode !== 0) throw new ConnectorBuildError("USAGE", `oci:${file}: a blob of the ${platform} image is missing (${lastLines(tar.stderr, 2)})`);
        const load = await docker(["load", "-i", archive]);
        rmSync(archive, { force: true });
        if (load.exitCode !== 0) throw new ConnectorBuildError("EXPORT_FAILED", `oci:${file}: docker load refused the ${platform} image: ${lastLines(load.stderr || load.stdout, 5)}`);
        loaded.push(m.config);
        if (!(await localImageId(m.config))) throw new ConnectorBuildError("EXPORT_FAILED", `oci:${file}: the ${platform} image is not in the local Docker after docker load (${lastLines(load.stdout, 2)})`);
      }
      images.push({ platform, digest: m.digest, image: { engine: "docker", platform, ref: m.config }, ...(m.refName !== undefined ? { refName: m.refName } : {}) });
    }
    return { images, release };
  } catch (error) {
    await release();
    throw error;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
