// Fast unit tests of the build procedure on the in-memory engine: metadata → recipe per platform →
// build → spec verification → output, with no container. test/connector-build.test.ts keeps
// exercising the same procedure on the real Docker engine.
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadProductionCatalog, parseCatalog } from "@airbyte-ci/base-images";
import { describe, expect, it } from "vitest";
import { FakeEngine } from "../engines/fake/fake-engine.ts";
import { buildConnectors } from "./build-connectors.ts";
import type { RegistryClient } from "../registry/registry-client.ts";

const EXAMPLE = join(import.meta.dirname, "../../../../examples/source-hello");
// The production catalog, with 1.0.0 published at the digest the example pins.
const production = loadProductionCatalog().toJSON();
const catalog = parseCatalog({
  ...production,
  versions: production.versions.map((v) => (v.version === "1.0.0" ? { ...v, published: { digest: "sha256:dd17e347fbda94f7c3abff539be298a65af2d7fc27a307d89297df1081a45c27" } } : v)),
});

// The registry the published base is read from: an index with both platforms' manifests. A stand-in,
// as the engine is here; test/published-base.test.ts reads the real local registry.
const baseRegistry = {
  getManifest: async () => ({
    kind: "index",
    digest: "sha256:dd17e347fbda94f7c3abff539be298a65af2d7fc27a307d89297df1081a45c27",
    manifest: {
      schemaVersion: 2,
      manifests: [
        { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha256:${"a".repeat(64)}`, size: 1, platform: { os: "linux", architecture: "amd64" } },
        { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha256:${"b".repeat(64)}`, size: 1, platform: { os: "linux", architecture: "arm64" } },
      ],
    },
  }),
} as unknown as RegistryClient;

function example(): string {
  const dir = join(mkdtempSync(join(tmpdir(), "arch-fake-build-")), "source-hello");
  cpSync(EXAMPLE, dir, { recursive: true });
  return dir;
}

describe("buildConnectors on the fake engine", () => {
  it("builds every platform on the pinned base image, verifies spec, then publishes one index", async () => {
    const engine = new FakeEngine();
    const [result] = await buildConnectors([example()], { engine, catalog, baseRegistry, sbom: false, platforms: ["linux/amd64", "linux/arm64"], output: { kind: "registry", prefix: "registry.example" } });
    expect(result?.error).toBeUndefined();
    expect(result?.status).toBe("success");
    expect(engine.builds.map((b) => b.platform)).toEqual(["linux/amd64", "linux/arm64"]);
    const ops = engine.builds[0]?.recipe.operations ?? [];
    expect(ops[0]?.op).toBe("from");
    expect(ops).toContainEqual({ op: "withLabel", name: "io.airbyte.version", value: "0.1.0" });
    // spec ran through the entrypoint once per platform, before anything was output.
    expect(engine.runs.filter((r) => r.useEntrypoint && r.argv.join(" ") === "spec")).toHaveLength(2);
    expect(engine.publications.map((p) => p.reference)).toEqual(["registry.example/airbyte/source-hello:0.1.0"]);
    expect(result?.output).toEqual({ kind: "registry", reference: `registry.example/airbyte/source-hello:0.1.0@${engine.publications[0]?.digest}`, digest: engine.publications[0]?.digest });
  });

  it("an image that does not answer spec fails VERIFICATION_FAILED and outputs nothing", async () => {
    const engine = new FakeEngine({ onRun: (_image, argv) => (argv.join(" ") === "spec" ? { stdout: "not json\n", stderr: "", exitCode: 1 } : undefined) });
    const [result] = await buildConnectors([example()], { engine, catalog, baseRegistry, platforms: ["linux/amd64"], output: { kind: "docker" } });
    expect(result?.status).toBe("failed");
    expect(result?.error?.code).toBe("VERIFICATION_FAILED");
    expect(result?.error?.message).toMatch(/printed no JSON line with "type": "SPEC"/);
    expect(engine.loaded.size).toBe(0);
  });

  it("connectors build concurrently yet each gets its own result, in the order given", async () => {
    const engine = new FakeEngine();
    const dirs = [example(), example(), example()];
    const results = await buildConnectors(dirs, { engine, catalog, baseRegistry, platforms: ["linux/amd64"], output: { kind: "none" }, concurrency: 2 });
    expect(results.map((r) => r.dir)).toEqual(dirs);
    expect(results.every((r) => r.status === "success")).toBe(true);
  });
});
