// One lock, offline builds: `connector-build lock` of the CDK example (airbyte-cdk 3.9.6 from
// PyPI's simple index, per platform) with a wheelhouse, then `build --offline` with no network in
// the build containers. The lock and wheelhouse are made once for the file.
import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ImageRecipe } from "@airbyte-ci/base-images";
import { beforeAll, describe, expect, it } from "vitest";
import { buildConnectors } from "../src/build/build-connectors.ts";
import { DockerEngine } from "../src/engines/docker/docker-engine.ts";
import { RegistryClient } from "../src/registry/registry-client.ts";
import { LOCK_FILE_NAME, type ConnectorLock } from "../src/connector/lock-file.ts";
import { localCatalog, runCli, stageExample } from "./helpers.ts";

const engine = new DockerEngine();
let dir: string;
let wheelhouse: string;
let lock: ConnectorLock;

const sha256 = (path: string) => `sha256:${createHash("sha256").update(readFileSync(path)).digest("hex")}`;

/** A copy of the locked connector, to break without touching the shared one. */
function copyOfConnector(): string {
  const copy = join(mkdtempSync(join(tmpdir(), "offline-copy-")), "source-tickets");
  cpSync(dir, copy, { recursive: true });
  return copy;
}

beforeAll(async () => {
  dir = await stageExample("source-tickets");
  wheelhouse = mkdtempSync(join(tmpdir(), "wheelhouse-"));
  const run = await runCli(["lock", dir, "--wheelhouse", wheelhouse, "--catalog", "local", "--engine", "docker"]);
  if (run.exitCode !== 0) throw new Error(`lock failed: ${run.stderr}`);
  lock = JSON.parse(readFileSync(join(dir, LOCK_FILE_NAME), "utf8")) as ConnectorLock;
}, 600_000);

describe("connector-build lock (real PyPI simple index, real base image)", () => {
  it("pins the base manifest per platform, every artifact's URL and sha256 per platform, and the input files", async () => {
    const base = localCatalog().get("1.0.0");
    expect(lock.baseImage).toBe(base.publishedAddress);
    const index = await new RegistryClient().getManifest(base.publishedAddress as string);
    if (index.kind !== "index") throw new Error("the base is not an index");
    for (const platform of ["linux/amd64", "linux/arm64"]) {
      const locked = lock.platforms[platform];
      expect(locked?.baseManifest).toBe(index.manifest.manifests.find((m) => `${m.platform?.os}/${m.platform?.architecture}` === platform)?.digest);
      expect(locked?.pythonVersion).toBe("3.11.2");
      const cdk = locked?.artifacts.find((a) => a.name === "airbyte-cdk");
      expect(cdk).toMatchObject({ version: "3.9.6", kind: "wheel", filename: "airbyte_cdk-3.9.6-py3-none-any.whl", sha256: "sha256:4d4cb095926249247d87437c8b4dd762df52bb8e24c76e05f166982842f6876d" });
      expect(cdk?.url).toMatch(/^https:\/\/files\.pythonhosted\.org\/.*\/airbyte_cdk-3\.9\.6-py3-none-any\.whl$/);
      expect(locked?.artifacts.length).toBeGreaterThan(40);
    }
    // compiled wheels follow the platform; pendulum 2.1.2 has no cp311 wheel: its sdist and its build backend are locked
    expect(lock.platforms["linux/amd64"]?.artifacts.find((a) => a.name === "pydantic-core")?.filename).toMatch(/x86_64/);
    expect(lock.platforms["linux/arm64"]?.artifacts.find((a) => a.name === "pydantic-core")?.filename).toMatch(/aarch64/);
    expect(lock.platforms["linux/amd64"]?.artifacts.find((a) => a.name === "pendulum")).toMatchObject({ kind: "sdist", filename: "pendulum-2.1.2.tar.gz" });
    expect(lock.platforms["linux/amd64"]?.buildArtifacts.map((a) => a.name)).toEqual(["poetry-core"]);
    expect(lock.inputs).toEqual({ "pyproject.toml": sha256(join(dir, "pyproject.toml")), "poetry.lock": sha256(join(dir, "poetry.lock")) });
    // every locked poetry hash is poetry.lock's; the wheelhouse holds each artifact with its hash
    const poetryLock = readFileSync(join(dir, "poetry.lock"), "utf8");
    const files = new Set(readdirSync(wheelhouse));
    for (const platform of Object.values(lock.platforms)) {
      for (const artifact of platform.artifacts) expect(poetryLock).toContain(artifact.sha256);
      for (const artifact of [...platform.artifacts, ...platform.buildArtifacts]) {
        expect(files.has(artifact.filename)).toBe(true);
        expect(sha256(join(wheelhouse, artifact.filename))).toBe(artifact.sha256);
      }
    }
  });
});

describe("build --offline (no network in build containers)", () => {
  it("builds the CDK example from the lock and wheelhouse alone; it answers spec and its SBOM lists airbyte-cdk", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "offline-oci-")), "source-tickets.tar");
    const [result] = await buildConnectors([dir], {
      engine,
      catalog: localCatalog(),
      platforms: ["linux/amd64"],
      output: { kind: "oci", path: out },
      offline: { wheelhouse },
    });
    expect(result?.error).toBeUndefined();
    expect(result?.platforms[0]?.verification.spec).toBe(true);
    const sbom = JSON.parse(readFileSync(`${out}.amd64.cdx.json`, "utf8")) as { components: Array<{ name: string; version?: string; components?: unknown[] }> };
    const cdk = sbom.components.find((c) => c.name === "airbyte-cdk");
    expect(cdk?.version).toBe("3.9.6");
    expect(cdk?.components?.length).toBeGreaterThan(100);
    expect(sbom.components.find((c) => c.name === "pendulum")?.version).toBe("2.1.2");
    // the sdist's build backend was on the build's PYTHONPATH only, not installed in the image
    expect(sbom.components.some((c) => c.name === "poetry-core")).toBe(false);
  }, 900_000);

  it("build containers get no network: a loopback server answers a normal build's RUN, not an offline one's", async () => {
    const server = createServer((_req, res) => res.end("ok")).listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const recipe = ImageRecipe.empty()
        .from(localCatalog().get("1.0.0").publishedAddress as string)
        .withEnvVariable("NONCE", `${Date.now()}${Math.random()}`)
        .withExec(["python", "-c", `import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:${port}", timeout=5).read())`]);
      await expect(engine.build({ recipe, platform: "linux/amd64" })).resolves.toMatchObject({ engine: "docker" });
      await expect(engine.build({ recipe, platform: "linux/amd64", network: "none" })).rejects.toThrowError(/Network is unreachable|Connection refused|URLError/);
    } finally {
      server.close();
    }
  }, 300_000);

  it("a lock that does not match the connector's files, or a wheelhouse missing an artifact, is an exit-2 error before any build", async () => {
    const changed = copyOfConnector();
    appendFileSync(join(changed, "pyproject.toml"), "\n# a new comment\n");
    writeFileSync(join(changed, "build_customization.ts"), 'import { defineBuildCustomization } from "@airbyte-ci/hooks";\nexport default defineBuildCustomization({});\n');
    const run = await runCli(["build", changed, "--offline", "--wheelhouse", wheelhouse, "--catalog", "local", "--output", "none"]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(
      /connector source-tickets: connector-build\.lock does not match the connector: pyproject\.toml changed \(locked sha256:\w+…, now sha256:\w+…\); build_customization\.ts was added since the lock was made: expected the files it was made from; run connector-build lock/,
    );
    expect(run.stderr).not.toMatch(/building linux\/amd64/);
    const partial = mkdtempSync(join(tmpdir(), "wheelhouse-partial-"));
    cpSync(wheelhouse, partial, { recursive: true });
    rmSync(join(partial, "airbyte_cdk-3.9.6-py3-none-any.whl"));
    const missing = await runCli(["build", dir, "--offline", "--wheelhouse", partial, "--catalog", "local", "--output", "none"]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/airbyte_cdk-3\.9\.6-py3-none-any\.whl is not in the wheelhouse .*: run connector-build lock/);
    const noWheelhouse = await runCli(["build", dir, "--offline", "--catalog", "local"]);
    expect(noWheelhouse.exitCode).toBe(2);
    expect(noWheelhouse.stderr).toMatch(/--offline needs --wheelhouse <dir>/);
  }, 300_000);
});
