// CycloneDX SBOMs of built connector images, on the real Docker engine and registry: published
// beside the image (tag sha256-<digest>.sbom) and written beside oci: output; printed by
// `connector-build sbom`. One source-hello image (linux/amd64) is built for the whole file.
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ImageRecipe } from "@airbyte-ci/base-images";
import { Spec, Validation } from "@cyclonedx/cyclonedx-library";
import { beforeAll, describe, expect, it } from "vitest";
import { buildConnectors, type ConnectorBuildResult } from "../src/build/build-connectors.ts";
import { DockerEngine } from "../src/engines/docker/docker-engine.ts";
import { RegistryClient } from "../src/registry/registry-client.ts";
import { CYCLONEDX_MEDIA_TYPE } from "../src/supply-chain/sbom.ts";
import { sbomTag } from "../src/supply-chain/sbom-output.ts";
import { localCatalog, runCli, stageExample } from "./helpers.ts";
import { uniqueName } from "./helpers/supply-chain.ts";

const engine = new DockerEngine();
const prefix = `127.0.0.1:5000/supply-sbom/${uniqueName("s")}`;
const repo = `${prefix}/airbyte/source-hello`;
let dir: string;
let built: ConnectorBuildResult;

interface Component {
  type: string;
  name: string;
  version?: string;
  purl?: string;
  hashes?: Array<{ alg: string; content: string }>;
  components?: Component[];
  licenses?: unknown[];
}

async function valid(json: string): Promise<void> {
  expect(await new Validation.JsonStrictValidator(Spec.Version.v1dot6).validate(json)).toBeNull();
}

beforeAll(async () => {
  dir = await stageExample("source-hello", { tag: "0.1.0" });
  const [result] = await buildConnectors([dir], { engine, catalog: localCatalog(), platforms: ["linux/amd64"], output: { kind: "registry", prefix } });
  if (result?.status !== "success") throw new Error(`build failed: ${result?.error?.message}`);
  built = result;
}, 600_000);

describe("SBOMs (CycloneDX 1.6, real Docker and registry)", () => {
  it("a registry build publishes an SBOM artifact beside each platform manifest and the index", async () => {
    const client = new RegistryClient();
    const indexDigest = built.output?.digest as string;
    const platformDigest = built.platforms[0]?.digest as string;
    expect(built.sbom?.published?.map((p) => p.subject).sort()).toEqual([`${repo}@${indexDigest}`, `${repo}@${platformDigest}`].sort());
    for (const digest of [indexDigest, platformDigest]) {
      const artifact = await client.getManifest(`${repo}:${sbomTag(digest)}`);
      expect(artifact.kind).toBe("manifest");
      const doc = JSON.parse(Buffer.from(artifact.bytes).toString());
      expect(doc.artifactType).toBe(CYCLONEDX_MEDIA_TYPE);
      expect(doc.subject.digest).toBe(digest);
      expect(doc.layers[0].mediaType).toBe(CYCLONEDX_MEDIA_TYPE);
    }
  });

  it("`connector-build sbom` prints the published platform SBOM: dpkg packages, Python distributions with RECORD hashes, the base image", async () => {
    const run = await runCli(["sbom", `${repo}:0.1.0`, "--platform", "linux/amd64"]);
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toMatch(/the SBOM published beside/);
    await valid(run.stdout);
    const doc = JSON.parse(run.stdout) as { specVersion: string; metadata: { component: Component }; components: Component[] };
    expect(doc.specVersion).toBe("1.6");
    expect(doc.metadata.component.hashes?.[0]?.content).toBe((built.platforms[0]?.digest as string).slice(7));
    const byName = new Map(doc.components.map((c) => [c.name, c]));
    // Debian packages from /var/lib/dpkg/status
    expect(byName.get("libc6")?.purl).toMatch(/^pkg:deb\/debian\/libc6@.+\?arch=amd64&distro=debian-12$/);
    expect(doc.components.filter((c) => c.purl?.startsWith("pkg:deb/")).length).toBeGreaterThan(50);
    // Python distributions (the connector's own too), each installed file with its RECORD hash:
    // the hash of pip/__init__.py is the sha256 of that file in the image.
    expect(byName.get("source-hello")?.purl).toBe("pkg:pypi/source-hello@0.0.0");
    const pip = byName.get("pip") as Component & { properties: Array<{ name: string; value: string }> };
    expect(pip.version).toBe("23.0.1");
    expect(pip.licenses).toEqual([{ license: { id: "MIT" } }]);
    expect(pip.components?.length).toBeGreaterThan(100);
    const init = pip.components?.find((f) => f.name === "pip/__init__.py");
    const site = dirname(pip.properties.find((p) => p.name === "python:location")?.value as string);
    const image = await engine.build({ recipe: ImageRecipe.empty().from(`${repo}:0.1.0@${built.platforms[0]?.digest}`), platform: "linux/amd64" });
    const sha = (await engine.run(image, ["sha256sum", `${site}/pip/__init__.py`])).stdout.split(" ")[0];
    expect(init?.hashes).toEqual([{ alg: "SHA-256", content: sha }]);
    // the base image, with the digest of the published base index
    const baseDigest = localCatalog().get("1.0.0").published?.address.digest as string;
    const base = doc.components.find((c) => c.type === "container");
    expect(base?.name).toBe("127.0.0.1:5000/airbyte/python-connector-base");
    expect(base?.hashes).toEqual([{ alg: "SHA-256", content: baseDigest.slice(7) }]);
  });

  it("the index SBOM lists the platform image with a link to its SBOM; --regenerate runs the image and finds the same packages", async () => {
    const published = await runCli(["sbom", `${repo}:0.1.0`]);
    expect(published.exitCode).toBe(0);
    const doc = JSON.parse(published.stdout) as { metadata: { component: Component }; components: Array<Component & { externalReferences?: Array<{ url: string; type: string }> }> };
    expect(doc.metadata.component.hashes?.[0]?.content).toBe((built.output?.digest as string).slice(7));
    const image = doc.components.find((c) => c.type === "container" && c.externalReferences !== undefined);
    expect(image?.externalReferences?.[0]).toMatchObject({ type: "bom", url: `${repo}:${sbomTag(built.platforms[0]?.digest as string)}` });
    const regenerated = await runCli(["sbom", `${repo}:0.1.0`, "--regenerate", "--engine", "docker"]);
    expect(regenerated.exitCode).toBe(0);
    expect(regenerated.stderr).toMatch(/generating the SBOM of .* by running it/);
    await valid(regenerated.stdout);
    const purls = (text: string) => (JSON.parse(text).components as Component[]).map((c) => c.purl).filter((p) => p?.startsWith("pkg:deb") || p?.startsWith("pkg:pypi")).sort();
    expect(purls(regenerated.stdout)).toEqual(purls(published.stdout));
  }, 300_000);

  it("an oci: build writes the SBOMs beside the tarball", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "supply-sbom-oci-")), "source-hello.tar");
    const [result] = await buildConnectors([dir], { engine, catalog: localCatalog(), platforms: ["linux/amd64"], output: { kind: "oci", path: out } });
    expect(result?.status).toBe("success");
    expect(result?.sbom?.files).toEqual([`${out}.amd64.cdx.json`, `${out}.cdx.json`]);
    for (const file of result?.sbom?.files ?? []) {
      expect(existsSync(file)).toBe(true);
      await valid(readFileSync(file, "utf8"));
    }
    const platform = JSON.parse(readFileSync(`${out}.amd64.cdx.json`, "utf8"));
    expect(platform.metadata.component.hashes[0].content).toMatch(/^[0-9a-f]{64}$/);
    expect(platform.components.some((c: Component) => c.name === "libc6")).toBe(true);
  }, 300_000);
});
