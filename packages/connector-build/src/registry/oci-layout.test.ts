import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConnectorBuildError } from "../errors.ts";
import { OciLayout, readLayoutTarballIndex } from "./oci-layout.ts";
import { MEDIA_TYPES, OCI_MEDIA_TYPES, type ImageManifest } from "./oci-types.ts";
import { computeDigest } from "./platforms.ts";

const tmp = mkdtempSync(join(tmpdir(), "oci-layout-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A layout with one linux/arm64 image (one layer), its manifest listed without a platform. */
function sampleLayout(dir: string): { layout: OciLayout; manifestDigest: string } {
  const layout = OciLayout.create(dir);
  const config = layout.addBlob(new TextEncoder().encode(JSON.stringify({ os: "linux", architecture: "arm64", rootfs: { type: "layers", diff_ids: [] } })));
  const layer = layout.addBlob(new TextEncoder().encode("not really a tar"));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: OCI_MEDIA_TYPES.config, ...config },
    layers: [{ mediaType: OCI_MEDIA_TYPES.layer, ...layer }],
  };
  const m = layout.addBlob(new TextEncoder().encode(JSON.stringify(manifest)));
  layout.writeIndex([{ mediaType: MEDIA_TYPES.ociManifest, ...m }], { annotations: { kept: "yes" } });
  return { layout, manifestDigest: m.digest };
}

describe("OciLayout", () => {
  it("writes a layout, packs it with ./ or plain member names, and reads it back from the tarball", async () => {
    const { layout, manifestDigest } = sampleLayout(join(tmp, "a"));
    expect(computeDigest(layout.blob(manifestDigest))).toBe(manifestDigest);
    const manifest = layout.manifest(manifestDigest);
    expect(layout.config(manifest.config.digest)).toMatchObject({ os: "linux", architecture: "arm64" });
    expect(layout.index()).toMatchObject({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, annotations: { kept: "yes" } });

    const dot = join(tmp, "dot.tar");
    const plain = join(tmp, "plain.tar");
    await layout.pack(dot);
    await layout.pack(plain, "plain");
    expect(execFileSync("tar", ["-tf", dot], { encoding: "utf8" })).toContain("./index.json");
    expect(execFileSync("tar", ["-tf", plain], { encoding: "utf8" }).split("\n")).toContain("index.json");
    for (const file of [dot, plain]) expect((await readLayoutTarballIndex(file))?.manifests.map((m) => m.digest)).toEqual([manifestDigest]);
    expect(readdirSync(tmp).filter((f) => f.endsWith(".partial"))).toEqual([]);

    const unpacked = await OciLayout.unpack(plain, join(tmp, "unpacked"));
    expect(unpacked.manifest(manifestDigest)).toEqual(manifest);
  });

  it("says which blob is missing, and a tarball without index.json is not a layout", async () => {
    const { layout } = sampleLayout(join(tmp, "b"));
    const absent = `sha256:${"0".repeat(64)}`;
    expect(() => layout.blob(absent)).toThrowError(new RegExp(`has no blob ${absent}`));
    const notLayout = join(tmp, "not-layout.tar");
    execFileSync("tar", ["-cf", notLayout, "-C", join(tmp, "b"), "oci-layout"]);
    expect(await readLayoutTarballIndex(notLayout)).toBeUndefined();
    const error = await OciLayout.unpack(notLayout, join(tmp, "not-layout")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorBuildError);
    expect((error as ConnectorBuildError).code).toBe("EXPORT_FAILED");
    expect((error as Error).message).toContain("holds no index.json");
  });

  it("a pack that cannot be written leaves nothing behind", async () => {
    const { layout } = sampleLayout(join(tmp, "c"));
    const target = join(tmp, "no-such-dir", "out.tar");
    await expect(layout.pack(target)).rejects.toThrowError(/cannot write/);
    expect(existsSync(join(tmp, "no-such-dir"))).toBe(false);
  });
});
