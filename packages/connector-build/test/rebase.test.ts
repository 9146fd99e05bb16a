// Rebase published connector images from base 1.0.0 to 1.0.1 without rebuilding, on the real
// registry and Docker engine: one connector image (linux/amd64 + linux/arm64) built FROM base 1.0.0
// is shared by every test of the file.
import { writeFileSync } from "node:fs";
import { ImageRecipe, splitImageReference, type CatalogData, type Platform } from "@airbyte-ci/base-images";
import { beforeAll, describe, expect, it } from "vitest";
import { verifySpec } from "../src/inspect/spec.ts";
import { DockerEngine } from "../src/engines/docker/docker-engine.ts";
import { RegistryClient } from "../src/registry/registry-client.ts";
import { publishBaseImage } from "../src/base-image/release.ts";
import { parseImageConfig } from "../src/supply-chain/image-config.ts";
import type { ImageConfig } from "../src/registry/oci-types.ts";
import { rebaseImages } from "../src/supply-chain/rebase.ts";
import { fetchSbom } from "../src/supply-chain/sbom-output.ts";
import { runCli } from "./helpers.ts";
import { buildFromPublishedBase, derivedVersion, stageConnector, supplyCatalog, uniqueName } from "./helpers/supply-chain.ts";
import { BASE_DIGEST_KEY, BASE_NAME_KEY } from "../src/connector/published-base.ts";

const engine = new DockerEngine();
const client = new RegistryClient();
const PLATFORMS: Platform[] = ["linux/amd64", "linux/arm64"];
const root = `127.0.0.1:5000/supply-rebase/${uniqueName("r")}`;
const baseRepo = `${root}/base`;
// Where `build --output registry:${root}` would publish source-hello (its dockerRepository is airbyte/source-hello).
const connectorRepo = `${root}/airbyte/source-hello`;

/** 1.0.1 adds a layer, an environment variable and a check of both; 2.0.0 is recorded only to be refused. */
function addVersions(data: CatalogData): void {
  data.versions.push(
    derivedVersion(data, "1.0.1", {
      recipe: [
        { op: "withExec", args: ["sh", "-c", "echo 1.0.1 > /etc/python-connector-base-release"] },
        { op: "withEnvVariable", name: "PYTHONDONTWRITEBYTECODE", value: "1" },
      ],
      sanityChecks: [
        { kind: "command", name: "release file says 1.0.1", argv: ["cat", "/etc/python-connector-base-release"], expect: { stdout: "1.0.1" } },
        { kind: "env", name: "PYTHONDONTWRITEBYTECODE is 1", variable: "PYTHONDONTWRITEBYTECODE", value: "1" },
      ],
    }),
    { ...derivedVersion(data, "2.0.0"), published: { digest: `sha256:${"2".repeat(64)}` } },
  );
}

interface PlatformView {
  manifestDigest: string;
  layers: string[];
  config: ImageConfig;
}

async function platformsOf(reference: string): Promise<Record<string, PlatformView>> {
  const index = await new RegistryClient().getManifest(reference);
  if (index.kind !== "index") throw new Error(`${reference} is not an index`);
  const parts = splitImageReference(reference);
  const repo = `${parts.registry}/${parts.repository}`;
  const views: Record<string, PlatformView> = {};
  for (const entry of index.manifest.manifests) {
    const m = await client.getManifest(`${repo}@${entry.digest}`);
    if (m.kind !== "manifest") throw new Error("nested index");
    views[`${entry.platform?.os}/${entry.platform?.architecture}`] = {
      manifestDigest: entry.digest,
      layers: m.manifest.layers.map((l) => l.digest),
      config: parseImageConfig(await client.getBlob(repo, m.manifest.config.digest), entry.digest),
    };
  }
  return views;
}

let catalog: Awaited<ReturnType<typeof supplyCatalog>>;
let before: Record<string, PlatformView>;
let base100: Record<string, PlatformView>;
let base101: Record<string, PlatformView>;

beforeAll(async () => {
  catalog = await supplyCatalog(baseRepo, addVersions);
  await publishBaseImage({ catalogPath: catalog.path, engine, version: "1.0.1" });
  const cat = catalog.load();
  const address100 = cat.get("1.0.0").publishedAddress as string;
  const dir = stageConnector("source-hello", address100, "0.1.0");
  await buildFromPublishedBase(engine, dir, cat, PLATFORMS, `${connectorRepo}:0.1.0`);
  // A second tag of the same image, for the tests that must find it still on 1.0.0.
  await client.copyManifest(`${connectorRepo}:0.1.0`, connectorRepo, "0.1.0-copy");
  before = await platformsOf(`${connectorRepo}:0.1.0`);
  base100 = await platformsOf(address100);
  base101 = await platformsOf(cat.get("1.0.1").publishedAddress as string);
}, 1_200_000);

describe("connector-build rebase (real registry, real Docker)", () => {
  it("the connector image starts with base 1.0.0's layers (built FROM the published base)", () => {
    for (const p of PLATFORMS) {
      const b = base100[p] as PlatformView;
      expect(before[p]?.layers.slice(0, b.layers.length)).toEqual(b.layers);
      // The label holds the platform manifest of the base index (the index digest is an annotation of the connector index).
      expect(before[p]?.config.config?.Labels?.[BASE_DIGEST_KEY]).toBe(b.manifestDigest);
    }
    expect(base101["linux/amd64"]?.layers.length).toBe((base100["linux/amd64"]?.layers.length ?? 0) + 1);
  });

  it("moves 1.0.0 → 1.0.1 per platform without rebuilding: connector layers byte-identical, spec passes, base checks taken from the release (CLI, --json)", async () => {
    const run = await runCli(["rebase", `${connectorRepo}:0.1.0`, "--to", "1.0.1", "--catalog", catalog.path, "--engine", "docker", "--json"]);
    expect(run.stderr).toMatch(/base 1\.0\.0 → 1\.0\.1 \(linux\/amd64, linux\/arm64\)/);
    expect(run.stderr).toMatch(/base 1\.0\.1: its sanity checks passed when it was released .*not run again/);
    expect(run.exitCode).toBe(0);
    const [result] = JSON.parse(run.stdout) as Awaited<ReturnType<typeof rebaseImages>>;
    const tagDigest = await new RegistryClient().resolveDigest(`${connectorRepo}:0.1.0`);
    expect(result?.address).toBe(`${connectorRepo}:0.1.0@${tagDigest}`);
    expect(result?.from.version).toBe("1.0.0");
    expect(result?.to).toEqual({ version: "1.0.1", digest: catalog.load().get("1.0.1").published?.address.digest });
    const after = await platformsOf(result?.address as string);
    expect(Object.keys(after).sort()).toEqual(PLATFORMS);
    for (const p of PLATFORMS) {
      const old = before[p] as PlatformView;
      const now = after[p] as PlatformView;
      const oldBase = base100[p] as PlatformView;
      const newBase = base101[p] as PlatformView;
      const connectorLayers = old.layers.slice(oldBase.layers.length);
      expect(connectorLayers.length).toBeGreaterThan(0);
      expect(now.layers).toEqual([...newBase.layers, ...connectorLayers]);
      expect(now.config.rootfs.diff_ids).toEqual([...newBase.config.rootfs.diff_ids, ...old.config.rootfs.diff_ids.slice(oldBase.layers.length)]);
      expect(now.config.history?.slice(0, newBase.config.history?.length)).toEqual(newBase.config.history);
      const env = now.config.config?.Env ?? [];
      expect(env).toContain("PYTHONDONTWRITEBYTECODE=1");
      expect(env).toContain("AIRBYTE_ENTRYPOINT=python /airbyte/integration_code/main.py");
      expect(now.config.config?.Entrypoint).toEqual(["python", "/airbyte/integration_code/main.py"]);
      const labels = now.config.config?.Labels ?? {};
      expect(labels["io.airbyte.base-image.version"]).toBe("1.0.1");
      expect(labels["io.airbyte.name"]).toBe("airbyte/source-hello");
      expect(labels[BASE_NAME_KEY]).toBe(`${baseRepo}:1.0.1`);
      expect(labels[BASE_DIGEST_KEY]).toBe(newBase.manifestDigest);
      const reported = result?.platforms.find((x) => x.platform === p);
      expect(reported?.digest).toBe(now.manifestDigest);
      expect(reported?.connectorLayers).toEqual(connectorLayers);
      expect(reported?.spec.passed).toBe(true);
      // The base's checks passed when 1.0.1 was published (publishBaseImage runs them): not run again per image.
      expect(reported?.baseChecks).toBe("passed-at-release");
      expect(reported?.checks).toEqual([]);
    }
    // Fresh SBOMs beside the rebased index and platform manifests, naming the new base.
    expect(result?.sboms?.map((x) => x.subject).sort()).toEqual([`${connectorRepo}@${tagDigest}`, ...PLATFORMS.map((p) => `${connectorRepo}@${after[p]?.manifestDigest}`)].sort());
    const sbom = JSON.parse((await fetchSbom(new RegistryClient(), connectorRepo, tagDigest)) as string) as { components: Array<{ type: string; name: string; version?: string }> };
    expect(sbom.components.find((c) => c.type === "container" && c.name === baseRepo)?.version).toBe("1.0.1");
    // Independently of the command: the published image runs, answers spec and carries the new base's file.
    const image = await engine.build({ recipe: ImageRecipe.empty().from(`${connectorRepo}:0.1.0@${after["linux/amd64"]?.manifestDigest}`), platform: "linux/amd64" });
    expect((await verifySpec(engine, image)).spec).toBe(true);
    expect((await engine.run(image, ["cat", "/etc/python-connector-base-release"])).stdout.trim()).toBe("1.0.1");
  }, 900_000);

  it("an image already on the target is left alone (given as a connector folder with --registry)", async () => {
    const digest = await new RegistryClient().resolveDigest(`${connectorRepo}:0.1.0`);
    const [result] = await rebaseImages([`${connectorRepo}:0.1.0`], { catalog: catalog.load(), to: "1.0.1", engine });
    expect(result).toMatchObject({ changed: false, address: `${connectorRepo}:0.1.0@${digest}`, platforms: [] });
    const dir = stageConnector("source-hello", catalog.load().get("1.0.0").publishedAddress as string, "0.1.0");
    const run = await runCli(["rebase", dir, "--registry", root, "--to", "1.0.1", "--catalog", catalog.path]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe(`= already on 1.0.1 ${connectorRepo}:0.1.0@${digest}\n`);
    // With --tag, nothing is pushed under it: the address is the image as given, and the tag does not appear.
    const [tagged] = await rebaseImages([`${connectorRepo}:0.1.0`], { catalog: catalog.load(), to: "1.0.1", engine, tag: "never-pushed" });
    expect(tagged?.address).toBe(`${connectorRepo}:0.1.0@${digest}`);
    expect(await new RegistryClient().tagExists(connectorRepo, "never-pushed")).toBe(false);
  });

  it("--tag naming a tag that holds another image is refused (exit 2) before anything is pushed; --force replaces it", async () => {
    // An unrelated image under the tag: the base 1.0.1 index, copied into the connector repository.
    const unrelated = await client.copyManifest(catalog.load().get("1.0.1").publishedAddress as string, connectorRepo, "taken");
    const run = await runCli(["rebase", `${connectorRepo}:0.1.0-copy`, "--to", "1.0.1", "--catalog", catalog.path, "--engine", "docker", "--tag", "taken"]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/:taken holds another image \(sha256:[0-9a-f]{64}\), not the one rebased \(sha256:[0-9a-f]{64}\): expected an unused tag or the image's own \(or --force to replace it\)/);
    expect(await new RegistryClient().resolveDigest(`${connectorRepo}:taken`)).toBe(unrelated);
    const forced = await runCli(["rebase", `${connectorRepo}:0.1.0-copy`, "--to", "1.0.1", "--catalog", catalog.path, "--engine", "docker", "--tag", "taken", "--force", "--no-sbom"]);
    expect(forced.exitCode).toBe(0);
    const now = await new RegistryClient().resolveDigest(`${connectorRepo}:taken`);
    expect(now).not.toBe(unrelated);
    expect(forced.stdout).toBe(`✓ 1.0.0 → 1.0.1 ${connectorRepo}:taken@${now}\n`);
  }, 900_000);

  it("refuses a major-version jump with exit 2, before pushing anything", async () => {
    const digest = await new RegistryClient().resolveDigest(`${connectorRepo}:0.1.0-copy`);
    const run = await runCli(["rebase", `${connectorRepo}:0.1.0-copy`, "--to", "2.0.0", "--catalog", catalog.path, "--engine", "docker"]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/from base 1\.0\.0 to 2\.0\.0 crosses a major version: a base image promises compatibility only within a major version \(1\.x\)/);
    expect(await new RegistryClient().resolveDigest(`${connectorRepo}:0.1.0-copy`)).toBe(digest);
  });

  it("bad input: an unknown version, a connector folder without --registry, --concurrency 0 (exit 2)", async () => {
    const unknown = await runCli(["rebase", `${connectorRepo}:0.1.0-copy`, "--to", "1.9.9", "--catalog", catalog.path]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/base image version '1\.9\.9' is not in the .* catalog: expected one of 2\.0\.0, 1\.0\.1, 1\.0\.0/);
    const dir = stageConnector("source-hello", catalog.load().get("1.0.0").publishedAddress as string, "0.1.0");
    const noRegistry = await runCli(["rebase", dir, "--to", "1.0.1", "--catalog", catalog.path]);
    expect(noRegistry.exitCode).toBe(2);
    expect(noRegistry.stderr).toMatch(/is a connector folder: expected --registry <registry>\[\/<namespace>\]/);
    const badConcurrency = await runCli(["rebase", `${connectorRepo}:0.1.0-copy`, "--to", "1.0.1", "--catalog", catalog.path, "--concurrency", "0"]);
    expect(badConcurrency.exitCode).toBe(2);
    expect(badConcurrency.stderr).toMatch(/--concurrency '0': expected a positive integer/);
  });

  it("--check-base runs the new base's checks once per platform, before pushing: a failing one publishes nothing, the tags do not move", async () => {
    const data = JSON.parse(catalog.bytes()) as CatalogData;
    data.versions.find((v) => v.version === "1.0.1")?.sanityChecks.push({ kind: "command", name: "python is 3.12", argv: ["python", "--version"], expect: { stdout: "Python 3.12.0" } });
    const strict = `${catalog.path.replace(/\.json$/, "")}-strict.json`;
    writeFileSync(strict, JSON.stringify(data));
    const digest = await new RegistryClient().resolveDigest(`${connectorRepo}:0.1.0-copy`);
    // Two images: the base's checks still run once per platform (not per image), and every failure is reported.
    await client.copyManifest(`${connectorRepo}:0.1.0-copy`, connectorRepo, "0.1.0-second");
    const run = await runCli(["rebase", `${connectorRepo}:0.1.0-copy`, `${connectorRepo}:0.1.0-second`, "--to", "1.0.1", "--catalog", strict, "--engine", "docker", "--concurrency", "2", "--check-base"]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(
      /rebase onto base 1\.0\.1: 2 check\(s\) failed; no tag was moved, nothing was published:\n {2}base 1\.0\.1 \[linux\/amd64\] python is 3\.12: expected exit code 0, stdout 'Python 3\.12\.0', saw exit code 0, stdout 'Python 3\.11\.2'\n {2}base 1\.0\.1 \[linux\/arm64\] python is 3\.12/,
    );
    expect(run.stderr.match(/running \d+ sanity checks/g)).toHaveLength(2);
    expect(run.stderr).not.toMatch(/pushed .*@sha256/);
    expect(await new RegistryClient().resolveDigest(`${connectorRepo}:0.1.0-copy`)).toBe(digest);
    expect(await new RegistryClient().resolveDigest(`${connectorRepo}:0.1.0-second`)).toBe(digest);
    expect((await platformsOf(`${connectorRepo}:0.1.0-copy`))["linux/amd64"]?.layers).toEqual(before["linux/amd64"]?.layers);
  }, 900_000);
});
