// flattenOciIndex on layouts shaped as Dagger exports them (a lone manifest without platform; several
// platforms as one nested index), built here with the OCI layout module: no Dagger engine needed.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { OciLayout, readLayoutTarballIndex } from "../../registry/oci-layout.ts";
import { MEDIA_TYPES, OCI_MEDIA_TYPES, type Descriptor } from "../../registry/oci-types.ts";
import { flattenOciIndex } from "./oci-layout.ts";

const tmp = mkdtempSync(join(tmpdir(), "flatten-oci-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** Adds an image of `architecture` (config + manifest) to `layout`; returns its manifest descriptor, without platform. */
function addImage(layout: OciLayout, architecture: string): Descriptor {
  const config = layout.addBlob(bytes({ os: "linux", architecture, rootfs: { type: "layers", diff_ids: [] } }));
  const manifest = layout.addBlob(bytes({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: { mediaType: OCI_MEDIA_TYPES.config, ...config }, layers: [] }));
  return { mediaType: MEDIA_TYPES.ociManifest, ...manifest };
}

describe("flattenOciIndex", () => {
  it("gives a lone manifest its platform from its config", async () => {
    const layout = OciLayout.create(join(tmp, "lone"));
    const amd64 = addImage(layout, "amd64");
    layout.writeIndex([amd64]);
    const tarball = join(tmp, "lone.tar");
    await layout.pack(tarball, "plain");
    await flattenOciIndex(tarball, tmp);
    const index = await readLayoutTarballIndex(tarball);
    expect(index?.manifests).toEqual([{ ...amd64, platform: { os: "linux", architecture: "amd64" } }]);
    expect(execFileSync("tar", ["-tf", tarball], { encoding: "utf8" }).split("\n")).toContain("index.json");
  });

  it("replaces a nested index by one descriptor per platform manifest; the nested index stays as a blob", async () => {
    const layout = OciLayout.create(join(tmp, "nested"));
    const amd64 = addImage(layout, "amd64");
    const arm64 = addImage(layout, "arm64");
    const inner = layout.addBlob(bytes({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [{ ...amd64, platform: { os: "linux", architecture: "amd64" } }, arm64] }));
    layout.writeIndex([{ mediaType: MEDIA_TYPES.ociIndex, ...inner }], { annotations: { "org.example": "kept" } });
    const tarball = join(tmp, "nested.tar");
    await layout.pack(tarball, "plain");
    await flattenOciIndex(tarball, tmp);
    const index = await readLayoutTarballIndex(tarball);
    expect(index?.annotations).toEqual({ "org.example": "kept" });
    expect(index?.manifests.map((m) => [m.digest, m.platform])).toEqual([
      [amd64.digest, { os: "linux", architecture: "amd64" }],
      [arm64.digest, { os: "linux", architecture: "arm64" }],
    ]);
    expect(execFileSync("tar", ["-tf", tarball], { encoding: "utf8" })).toContain(`blobs/sha256/${inner.digest.slice(7)}`);
  });
});
