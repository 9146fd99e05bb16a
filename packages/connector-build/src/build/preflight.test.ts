// Issue #16, classes 6 and 7: outputs that would collide or be lost, and inputs that would fail
// only after a full build, are refused before any build (exit 2), on the in-memory engine.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadProductionCatalog, parseCatalog } from "@airbyte-ci/base-images";
import { describe, expect, it } from "vitest";
import { FakeEngine } from "../engines/fake/fake-engine.ts";
import { exitCodeFor } from "../errors.ts";
import { RegistryClient } from "../registry/registry-client.ts";
import { buildConnectors, type BuildConnectorsOptions } from "./build-connectors.ts";
import { preflightBuild } from "./preflight.ts";

const EXAMPLE = join(import.meta.dirname, "../../../../examples/source-hello");
const production = loadProductionCatalog().toJSON();
const catalog = parseCatalog({
  ...production,
  versions: production.versions.map((v) => (v.version === "1.0.0" ? { ...v, published: { digest: "sha256:dd17e347fbda94f7c3abff539be298a65af2d7fc27a307d89297df1081a45c27" } } : v)),
});

function example(edit?: (yaml: string) => string): string {
  const dir = join(mkdtempSync(join(tmpdir(), "harden-preflight-")), "source-hello");
  cpSync(EXAMPLE, dir, { recursive: true });
  if (edit) writeFileSync(join(dir, "metadata.yaml"), edit(readFileSync(join(dir, "metadata.yaml"), "utf8")));
  return dir;
}

// The registry the published base is read from, a stand-in as the engine is (test/published-base.test.ts reads the real one).
const baseRegistry = {
  getManifest: async () => ({
    kind: "index",
    digest: "sha256:dd17e347fbda94f7c3abff539be298a65af2d7fc27a307d89297df1081a45c27",
    manifest: { schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha256:${"a".repeat(64)}`, size: 1, platform: { os: "linux", architecture: "amd64" } }] },
  }),
} as unknown as RegistryClient;

async function refused(dirs: string[], options: Omit<BuildConnectorsOptions, "engine" | "catalog" | "platforms">): Promise<{ message: string; exit: number; builds: number }> {
  const engine = new FakeEngine();
  const error = await buildConnectors(dirs, { engine, catalog, platforms: ["linux/amd64"], ...options }).then(
    () => new Error("expected a refusal"),
    (e: unknown) => e as Error,
  );
  return { message: error.message, exit: exitCodeFor(error), builds: engine.builds.length };
}

describe("outputs refused before building (class 6)", () => {
  it("two connectors with the same folder name into one oci: folder", async () => {
    const out = mkdtempSync(join(tmpdir(), "harden-oci-"));
    const r = await refused([example(), example()], { output: { kind: "oci", path: out } });
    expect(r).toMatchObject({ exit: 2, builds: 0 });
    expect(r.message).toMatch(/would both be written to .*source-hello\.tar \(same folder name source-hello\): expected one connector per file/);
  });

  it("an existing oci: file needs force", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "harden-oci-")), "image.tar");
    writeFileSync(file, "precious");
    const r = await refused([example()], { output: { kind: "oci", path: file } });
    expect(r).toMatchObject({ exit: 2, builds: 0 });
    expect(r.message).toMatch(/image\.tar already exists: expected a new file \(or --force to replace it\)/);
    expect(readFileSync(file, "utf8")).toBe("precious");
    const engine = new FakeEngine();
    const [forced] = await buildConnectors([example()], { engine, catalog, platforms: ["linux/amd64"], output: { kind: "oci", path: file }, force: true, baseRegistry, sbom: false });
    expect(forced?.status).toBe("success");
  });

  it("a second build publishing the same tag at once is refused (lock per tag), and released after", async () => {
    const dir = example();
    const output = { kind: "registry", prefix: "registry.example" } as const;
    const first = await preflightBuild([dir], { output });
    const second = await preflightBuild([dir], { output }).catch((e: unknown) => e as Error);
    expect((second as Error).message).toMatch(/another build \(pid \d+\) is publishing registry\.example\/airbyte\/source-hello:0\.1\.0 now: expected one build per tag at a time/);
    first.release();
    (await preflightBuild([dir], { output })).release();
  });

  it("two connectors publishing one tag", async () => {
    const r = await refused([example(), example()], { output: { kind: "registry", prefix: "registry.example" } });
    expect(r).toMatchObject({ exit: 2, builds: 0 });
    expect(r.message).toMatch(/would both be published as registry\.example\/airbyte\/source-hello:0\.1\.0/);
  });
});

describe("inputs validated before any work (class 7)", () => {
  it("a missing oci: parent folder", async () => {
    const r = await refused([example()], { output: { kind: "oci", path: "/nonexistent-harden/x/image.tar" } });
    expect(r).toMatchObject({ exit: 2, builds: 0 });
    expect(r.message).toMatch(/the folder \/nonexistent-harden\/x does not exist: expected an existing folder/);
  });

  it("an unreachable registry is found before building", async () => {
    const r = await refused([example()], { output: { kind: "registry", prefix: "127.0.0.1:9/ns" }, registry: new RegistryClient({ env: {}, dockerConfigPath: false }) });
    expect(r).toMatchObject({ exit: 2, builds: 0 });
    expect(r.message).toMatch(/--output registry:127\.0\.0\.1:9\/ns: checked before building: .*127\.0\.0\.1:9/);
  });

  it("the real registry on loopback passes the check, and a tag already there needs force", async () => {
    const dir = example((y) => y.replace(/dockerImageTag: .*/, "dockerImageTag: 1.0.0"));
    const registry = new RegistryClient({ env: {}, dockerConfigPath: false });
    // The fixture base 1.0.0 is published at 127.0.0.1:5000/airbyte/python-connector-base:1.0.0.
    const taken = example((y) => y.replace(/dockerRepository: .*/, "dockerRepository: airbyte/python-connector-base").replace(/dockerImageTag: .*/, "dockerImageTag: 1.0.0"));
    const r = await refused([taken], { output: { kind: "registry", prefix: "127.0.0.1:5000" }, registry });
    expect(r).toMatchObject({ exit: 2, builds: 0 });
    expect(r.message).toMatch(/127\.0\.0\.1:5000\/airbyte\/python-connector-base:1\.0\.0 is already in the registry: expected an unused tag/);
    (await preflightBuild([dir], { output: { kind: "registry", prefix: "127.0.0.1:5000/harden" }, registry })).release();
  });
});
