/**
 * OCI image layouts (https://github.com/opencontainers/image-spec/blob/main/image-layout.md): a
 * directory, or a tarball of one, holding `oci-layout`, `index.json` and `blobs/<algorithm>/<hex>`.
 * Every export, SBOM and reproducible path reads and writes layouts here: the Docker engine writes
 * one from `docker save` output, the Dagger engine rewrites the index of its export, `--sbom` reads
 * the per-platform digests of an `oci:` tarball, `--reproducible` reads the blobs of an export.
 *
 * Tarballs are packed and unpacked with `tar`; a packed tarball is written beside its target and
 * renamed, so a failure leaves no partial file.
 */
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, createReadStream, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ConnectorBuildError, lastLines } from "../errors.ts";
import { runProcess } from "../shared/process.ts";
import { MEDIA_TYPES, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest } from "./oci-types.ts";
import { computeDigest, isWellFormedDigest } from "./platforms.ts";

/** How the members of a packed layout are named: `./index.json` (`dot`, as `tar -C dir .` writes) or `index.json` (`plain`). */
export type LayoutMemberNames = "dot" | "plain";

/** Unpacks `tarball` into `dir` (created if needed); `what` names the tarball in errors ("docker save output"). */
export async function unpackTarball(tarball: string, dir: string, what: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const untar = await runProcess("tar", ["-xf", tarball, "-C", dir]);
  if (untar.exitCode !== 0) throw new ConnectorBuildError("EXPORT_FAILED", `cannot unpack ${what} ${tarball}: ${lastLines(untar.stderr, 5)}`);
}

/**
 * The `index.json` of an OCI layout tarball, read without unpacking the blobs (its member may be
 * named `./index.json` or `index.json`); undefined when the tarball holds none.
 */
export async function readLayoutTarballIndex(tarball: string): Promise<ImageIndex | undefined> {
  for (const member of ["./index.json", "index.json"]) {
    const run = await runProcess("tar", ["-xOf", tarball, member]);
    if (run.exitCode !== 0) continue;
    try {
      return JSON.parse(run.stdout) as ImageIndex;
    } catch (error) {
      throw new ConnectorBuildError("EXPORT_FAILED", `${tarball}: ${member} is not JSON: ${(error as Error).message}: expected an OCI image index`, { cause: error });
    }
  }
  return undefined;
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolvePromise(`sha256:${hash.digest("hex")}`));
  });
}

/** An OCI image layout directory: read its index and blobs, add blobs, write its index, pack it. */
export class OciLayout {
  private constructor(
    /** The layout directory. */
    readonly dir: string,
    /** Names it in errors: the tarball it came from, or the directory. */
    private readonly source: string,
  ) {}

  /** The layout in directory `dir`, as it is. */
  static open(dir: string): OciLayout {
    return new OciLayout(dir, dir);
  }

  /** A new, empty layout in `dir` (created): `oci-layout` and `blobs/sha256/`, no index yet. */
  static create(dir: string): OciLayout {
    mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
    writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    return new OciLayout(dir, dir);
  }

  /** Unpacks the layout tarball `tarball` into `dir` (created if needed). */
  static async unpack(tarball: string, dir: string): Promise<OciLayout> {
    await unpackTarball(tarball, dir, "the OCI tarball");
    if (!existsSync(join(dir, "index.json"))) throw new ConnectorBuildError("EXPORT_FAILED", `the OCI tarball ${tarball} holds no index.json: expected an OCI image layout`);
    return new OciLayout(dir, tarball);
  }

  /** Path of blob `digest`. */
  blobPath(digest: string): string {
    if (!isWellFormedDigest(digest)) throw new ConnectorBuildError("EXPORT_FAILED", `${this.source}: malformed digest '${digest}': expected <algorithm>:<hex>`);
    const [algorithm, hex] = digest.split(":") as [string, string];
    return join(this.dir, "blobs", algorithm, hex);
  }

  /** The bytes of blob `digest`. */
  blob(digest: string): Uint8Array {
    const path = this.blobPath(digest);
    if (!existsSync(path)) throw new ConnectorBuildError("EXPORT_FAILED", `${this.source} has no blob ${digest}: expected every blob its manifests name`);
    return new Uint8Array(readFileSync(path));
  }

  /** Blob `digest` parsed as JSON. */
  json<T = Record<string, unknown>>(digest: string): T {
    try {
      return JSON.parse(Buffer.from(this.blob(digest)).toString("utf8")) as T;
    } catch (error) {
      if (error instanceof ConnectorBuildError) throw error;
      throw new ConnectorBuildError("EXPORT_FAILED", `${this.source}: blob ${digest} is not JSON: ${(error as Error).message}: expected a manifest, index or config`, { cause: error });
    }
  }

  /** The `index.json`. */
  index(): ImageIndex {
    const path = join(this.dir, "index.json");
    try {
      return JSON.parse(readFileSync(path, "utf8")) as ImageIndex;
    } catch (error) {
      throw new ConnectorBuildError("EXPORT_FAILED", `${this.source}: cannot read index.json: ${(error as Error).message}: expected an OCI image index`, { cause: error });
    }
  }

  /** The manifest blob `digest`. */
  manifest(digest: string): ImageManifest {
    const manifest = this.json<ImageManifest>(digest);
    if (typeof manifest.config?.digest !== "string" || !Array.isArray(manifest.layers)) {
      throw new ConnectorBuildError("EXPORT_FAILED", `${this.source}: blob ${digest} is not an image manifest: expected config and layers`);
    }
    return manifest;
  }

  /** The config blob `digest`: os and architecture are checked. */
  config(digest: string): ImageConfig {
    const config = this.json<ImageConfig>(digest);
    if (typeof config.os !== "string" || config.os === "" || typeof config.architecture !== "string" || config.architecture === "") {
      throw new ConnectorBuildError("EXPORT_FAILED", `${this.source}: config ${digest} has no os/architecture: expected an image config`);
    }
    return config;
  }

  /** Writes `index.json`: an OCI image index of `manifests`, keeping the other fields of `extra` (a previous index). */
  writeIndex(manifests: readonly Descriptor[], extra: Readonly<Record<string, unknown>> = {}): void {
    writeFileSync(join(this.dir, "index.json"), JSON.stringify({ ...extra, schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests }));
  }

  /** Copies file `path` in as a blob (unless present); returns its sha256 digest and size. */
  async addBlobFile(path: string): Promise<{ digest: string; size: number }> {
    const digest = await sha256File(path);
    const target = this.blobPath(digest);
    if (!existsSync(target)) {
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(path, target);
    }
    return { digest, size: statSync(path).size };
  }

  /** Writes `bytes` as a blob (unless present); returns its sha256 digest and size. */
  addBlob(bytes: Uint8Array): { digest: string; size: number } {
    const digest = computeDigest(bytes);
    const target = this.blobPath(digest);
    if (!existsSync(target)) {
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, bytes);
    }
    return { digest, size: bytes.byteLength };
  }

  /**
   * Packs the layout into the tarball `file` (mode 0644): written to a temporary file beside it and
   * renamed, so a failure leaves `file` as it was.
   */
  async pack(file: string, names: LayoutMemberNames = "dot"): Promise<void> {
    const target = resolve(file);
    const partial = `${target}.${process.pid}.partial`;
    const members = names === "dot" ? ["."] : readdirSync(this.dir).sort();
    const tar = await runProcess("tar", ["-cf", partial, "-C", this.dir, ...members]);
    if (tar.exitCode !== 0) {
      rmSync(partial, { force: true });
      throw new ConnectorBuildError("EXPORT_FAILED", `cannot write ${target}: ${lastLines(tar.stderr, 5)}`);
    }
    chmodSync(partial, 0o644);
    renameSync(partial, target);
  }
}
