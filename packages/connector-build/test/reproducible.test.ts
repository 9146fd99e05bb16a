// Reproducible digests: source-hello built twice FROM the published base with no build cache at
// all (`--no-cache`), each published through the normaliser, gives one digest.
import { ImageRecipe, splitImageReference } from "@airbyte-ci/base-images";
import { describe, expect, it } from "vitest";
import { verifySpec } from "../src/inspect/spec.ts";
import { DockerEngine } from "../src/engines/docker/docker-engine.ts";
import { RegistryClient } from "../src/registry/registry-client.ts";
import { parseImageConfig } from "../src/supply-chain/image-config.ts";
import { publishReproducible, sourceDateEpoch, stagingTag, withSourceDateEpoch } from "../src/supply-chain/reproducible.ts";
import { localCatalog, runCli, stageExample } from "./helpers.ts";
import { recipeFromPublishedBase, stageConnector, uniqueName } from "./helpers/supply-chain.ts";

const engine = new DockerEngine();
const repo = `127.0.0.1:5000/supply-reproducible/${uniqueName("r")}/source-hello`;
const EPOCH = 1_700_000_000;

describe("reproducible digests (real Docker, no build cache)", () => {
  it("two builds on clean caches publish one index digest and one platform digest; the base's layers are the published base's", async () => {
    const catalog = localCatalog();
    const base = catalog.get("1.0.0");
    const dir = stageConnector("source-hello", base.publishedAddress as string, "0.1.0");
    const recipe = withSourceDateEpoch(await recipeFromPublishedBase(dir, catalog, "linux/amd64"), EPOCH);
    const first = await engine.build({ recipe, platform: "linux/amd64", contextDir: dir, noCache: true });
    const second = await engine.build({ recipe, platform: "linux/amd64", contextDir: dir, noCache: true });
    // Two real builds: the engine's own images differ (times in layers and config)...
    expect(second.ref).not.toBe(first.ref);
    const execs = second.cache?.steps.filter((s) => s.op === "withExec") ?? [];
    expect(execs.length).toBeGreaterThan(0);
    expect(execs.filter((s) => s.cached)).toEqual([]); // the install ran again (BuildKit 0.8 still reports WORKDIR as cached)
    const a = await publishReproducible(engine, [first], `${repo}:a`, { epoch: EPOCH, baseAddress: base.publishedAddress as string });
    const b = await publishReproducible(engine, [second], `${repo}:b`, { epoch: EPOCH, baseAddress: base.publishedAddress as string });
    // ...the published ones do not.
    expect(b.digest).toBe(a.digest);
    expect(b.platformDigests).toEqual(a.platformDigests);
    const client = new RegistryClient();
    // Normalised from what the engine pushed under the staging tag (the engine's own image, not reproducible).
    expect(stagingTag("a")).toBe("a.unnormalized");
    const staged = await client.resolveDigest(`${repo}:a.unnormalized`);
    expect(staged).not.toBe(a.digest);
    expect(await client.resolveDigest(`${repo}:b.unnormalized`)).not.toBe(staged);
    expect(stagingTag("t".repeat(120))).toMatch(/^unnormalized-[0-9a-f]{16}$/);
    const manifest = await client.getManifest(`${repo}@${a.platformDigests["linux/amd64"]}`);
    if (manifest.kind !== "manifest") throw new Error("expected a manifest");
    const baseIndex = await client.getManifest(base.publishedAddress as string);
    const baseRepo = (() => {
      const p = splitImageReference(base.publishedAddress as string);
      return `${p.registry}/${p.repository}`;
    })();
    const baseManifestDigest = baseIndex.kind === "index" ? baseIndex.manifest.manifests.find((m) => m.platform?.architecture === "amd64")?.digest : undefined;
    const baseManifest = await client.getManifest(`${baseRepo}@${baseManifestDigest}`);
    if (baseManifest.kind !== "manifest") throw new Error("expected the base manifest");
    const baseLayers = baseManifest.manifest.layers.map((l) => l.digest);
    expect(manifest.manifest.layers.slice(0, baseLayers.length).map((l) => l.digest)).toEqual(baseLayers);
    expect(manifest.manifest.layers.length).toBeGreaterThan(baseLayers.length);
    const config = parseImageConfig(await client.getBlob(repo, manifest.manifest.config.digest), "config");
    expect(config.created).toBe("2023-11-14T22:13:20Z");
    expect(config.config?.Env?.some((e) => e.startsWith("SOURCE_DATE_EPOCH"))).toBe(false);
    // and the image works
    const pulled = await engine.build({ recipe: ImageRecipe.empty().from(`${repo}:a@${a.platformDigests["linux/amd64"]}`), platform: "linux/amd64" });
    expect((await verifySpec(engine, pulled)).spec).toBe(true);
  }, 900_000);

  it("build --reproducible publishes through the normaliser (with its SBOMs); other outputs are refused with exit 2", async () => {
    const dir = await stageExample("source-hello", { tag: "0.2.0" });
    const prefix = `127.0.0.1:5000/supply-reproducible/${uniqueName("cli")}`;
    const run = await runCli(["build", dir, "--catalog", "local", "--engine", "docker", "--output", `registry:${prefix}`, "--reproducible", "--json"], { env: { SOURCE_DATE_EPOCH: String(EPOCH) } });
    expect(run.exitCode).toBe(0);
    const [result] = JSON.parse(run.stdout) as Array<{ output: { reference: string }; platforms: Array<{ digest: string }>; sbom: { published: unknown[] } }>;
    const client = new RegistryClient();
    const manifest = await client.getManifest(`${prefix}/airbyte/source-hello@${result?.platforms[0]?.digest}`);
    expect(manifest.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    if (manifest.kind !== "manifest") throw new Error("expected a manifest");
    expect(parseImageConfig(await client.getBlob(`${prefix}/airbyte/source-hello`, manifest.manifest.config.digest), "config").created).toBe("2023-11-14T22:13:20Z");
    expect(result?.sbom.published).toHaveLength(2);
    const refused = await runCli(["build", dir, "--catalog", "local", "--output", "docker", "--reproducible"]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/--reproducible: expected --output registry:<registry>\[\/<namespace>\]/);
  }, 600_000);

  it("SOURCE_DATE_EPOCH comes from the environment, else the folder's last commit, else 0", async () => {
    expect(await sourceDateEpoch("/tmp", { SOURCE_DATE_EPOCH: "42" })).toBe(42);
    await expect(sourceDateEpoch("/tmp", { SOURCE_DATE_EPOCH: "yesterday" })).rejects.toThrowError(/expected seconds since 1970/);
    expect(await sourceDateEpoch("/", {})).toBe(0);
    const repoRoot = new URL("../../..", import.meta.url).pathname;
    expect(await sourceDateEpoch(`${repoRoot}examples/source-hello`, {})).toBeGreaterThan(1_600_000_000);
  });
});
