// The dependency install of the common build, for real (Docker, PyPI through the loopback proxy):
// sdists build with their declared backend on a cold cache, connectors with one dependency set
// share one layer, and uv installs the same distributions pip does.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildConnectors } from "../src/build/build-connectors.ts";
import { literalInstallRequires, readDependencyInputs } from "../src/connector/dependency-inputs.ts";
import { DockerEngine } from "../src/engines/docker/docker-engine.ts";
import { RegistryClient } from "../src/registry/registry-client.ts";
import type { Installer } from "../src/connector/dependency-install.ts";
import { LOCAL_CATALOG, REPO_ROOT, localCatalog, pipIndexUrl, runCli, stageExample, uniqueTag } from "./helpers.ts";

const DOCKER = "/usr/bin/docker";
const engine = new DockerEngine();

/** A copy of source-hello under another image name, with these requirements in setup.py. */
async function helloWith(requirements: readonly string[], repository: string): Promise<{ dir: string; tag: string }> {
  const tag = uniqueTag();
  const dir = await stageExample("source-hello", { tag });
  const setup = join(dir, "setup.py");
  writeFileSync(setup, readFileSync(setup, "utf8").replace("MAIN_REQUIREMENTS = []", `MAIN_REQUIREMENTS = ${JSON.stringify(requirements)}`));
  const metadata = join(dir, "metadata.yaml");
  writeFileSync(metadata, readFileSync(metadata, "utf8").replace("airbyte/source-hello", repository));
  return { dir, tag };
}

function layers(ref: string): string[] {
  return JSON.parse(execFileSync(DOCKER, ["image", "inspect", "--format", "{{json .RootFS.Layers}}", ref]).toString()) as string[];
}

function distributions(ref: string): string[] {
  const script = "import importlib.metadata as m; print('\\n'.join(sorted(f\"{d.metadata['Name'].lower().replace('_','-')}=={d.version}\" for d in m.distributions())))";
  return execFileSync(DOCKER, ["run", "--rm", "--entrypoint", "python", ref, "-c", script]).toString().trim().split("\n");
}

describe("setup.py install_requires read as data", () => {
  it("takes list literals, names bound to them and their sums; anything computed is the connector's own", () => {
    expect(literalInstallRequires(`MAIN = ["airbyte-cdk~=0.1", 'pendulum'] # deps\nsetup(name="x", install_requires=MAIN)`)).toEqual(["airbyte-cdk~=0.1", "pendulum"]);
    expect(literalInstallRequires(`A = ["a"]\nB = [\n  "b>=1", # why\n]\nsetup(install_requires=A + B, extras_require={"tests": ["pytest"]})`)).toEqual(["a", "b>=1"]);
    expect(literalInstallRequires(`setup(name="x", install_requires=["requests==2.31.0"])`)).toEqual(["requests==2.31.0"]);
    expect(literalInstallRequires(`setup(name="x", packages=[])`)).toEqual([]);
    expect(literalInstallRequires(`MAIN = open("requirements.txt").read().split()\nsetup(install_requires=MAIN)`)).toBeUndefined();
    expect(literalInstallRequires(`MAIN = ["a"]\nMAIN.append("b")\nsetup(install_requires=MAIN)`)).toBeUndefined();
    expect(literalInstallRequires(`MAIN = ["a" if True else "b"]\nsetup(install_requires=MAIN)`)).toBeUndefined();
    expect(literalInstallRequires(`setup(**kwargs)`)).toBeUndefined();
  });

  it("gives each example its set: setup.py's literal list, poetry.lock's main group pinned with hashes", () => {
    expect(readDependencyInputs(join(REPO_ROOT, "examples/source-hello")).set).toEqual({ kind: "requirements", source: "setup.py install_requires", lines: [] });
    const tickets = readDependencyInputs(join(REPO_ROOT, "examples/source-tickets"));
    expect(tickets.selfInstall).toBe("poetry-root");
    expect(tickets.set.kind).toBe("locked");
    const lines = tickets.set.kind === "locked" ? tickets.set.lines("linux/amd64") : [];
    expect(lines.some((l) => /^airbyte-cdk==\S+ .*--hash=sha256:[0-9a-f]{64}/.test(l))).toBe(true);
    expect(lines.join("\n")).not.toContain("source-tickets");
  });
});

describe("the dependency install on Docker, dependencies from PyPI", () => {
  it("builds a dependency that is an sdist with a poetry-core backend (pendulum 2.1.2) on a cold cache, without uv in the image", async () => {
    // A unique environment marker (always true) makes the dependency layer new; a unique cache scope
    // gives uv, its cache and pip's cache empty volumes: nothing built earlier can be reused.
    const scope = `cold-${Date.now().toString(36)}`;
    const { dir, tag } = await helloWith([`pendulum==2.1.2 ; platform_machine != "${scope}"`], "airbyte/source-sdist-backend");
    const [result] = await buildConnectors([dir], { engine, catalog: localCatalog(), platforms: ["linux/amd64"], output: { kind: "docker" }, pipIndex: { indexUrl: pipIndexUrl() }, cacheScope: scope });
    expect(result?.error).toBeUndefined();
    expect(result?.status).toBe("success");
    const ref = `airbyte/source-sdist-backend:${tag}`;
    expect(execFileSync(DOCKER, ["run", "--rm", "--entrypoint", "python", ref, "-c", "import pendulum; print(pendulum.__version__)"]).toString().trim()).toBe("2.1.2");
    const tools = execFileSync(DOCKER, ["run", "--rm", "--entrypoint", "sh", ref, "-c", "command -v uv || echo none; ls /root/.cache/airbyte-ci-uv | wc -l"]).toString().trim().split("\n");
    expect(tools).toEqual(["none", "0"]);
  }, 900_000);

  it("connectors with the same dependency set share the dependency layer; their own package is a layer of its own", async () => {
    // Built at once (concurrency 2): the second waits for the first's dependency layer and reuses it.
    const requirements = [`requests==2.31.0 ; platform_machine != "${Date.now().toString(36)}"`];
    const a = await helloWith(requirements, "airbyte/source-shared-a");
    const b = await helloWith(requirements, "airbyte/source-shared-b");
    writeFileSync(join(b.dir, "main.py"), `${readFileSync(join(b.dir, "main.py"), "utf8")}\n# connector b's own code\n`);
    const results = await buildConnectors([a.dir, b.dir], { engine, catalog: localCatalog(), platforms: ["linux/amd64"], output: { kind: "docker" }, pipIndex: { indexUrl: pipIndexUrl() }, concurrency: 2 });
    expect(results.map((r) => r.error)).toEqual([undefined, undefined]);
    const la = layers(`airbyte/source-shared-a:${a.tag}`);
    const lb = layers(`airbyte/source-shared-b:${b.tag}`);
    const shared = la.findIndex((layer, i) => lb[i] !== layer);
    expect(shared).toBeGreaterThan(0);
    const address = localCatalog().get("1.0.0").publishedAddress as string;
    const client = new RegistryClient();
    const index = await client.getManifest(address);
    const amd64 = index.kind === "index" ? index.manifest.manifests.find((m) => m.platform?.architecture === "amd64")?.digest : index.digest;
    const manifest = await client.getManifest(`${address.split("@")[0]}@${amd64}`);
    const base = manifest.kind === "manifest" ? manifest.manifest.layers.length : Number.NaN;
    // The base's layers, the dependency set file and the install are the same layers in both images.
    expect(shared).toBeGreaterThanOrEqual(base + 2);
    expect(la.length).toBeGreaterThan(shared);
  }, 900_000);

  it("uv and pip install the same Python distributions for every example", async () => {
    const latest = localCatalog().latestStable();
    if (!latest?.publishedAddress) throw new Error(`the local catalog ${LOCAL_CATALOG} has no published version: run scripts/bootstrap.sh`);
    for (const example of ["source-hello", "source-zendesk-chat", "source-tickets"]) {
      const images: Record<Installer, string> = { uv: "", pip: "" };
      for (const installer of ["uv", "pip"] as const) {
        const dir = join(mkdtempSync(join(tmpdir(), "installers-")), example);
        cpSync(join(REPO_ROOT, "examples", example), dir, { recursive: true });
        const tag = uniqueTag();
        writeFileSync(join(dir, "metadata.yaml"), readFileSync(join(dir, "metadata.yaml"), "utf8").replace(/dockerImageTag: .*/, `dockerImageTag: ${tag}`));
        expect((await runCli(["bump-base", dir, "--catalog", LOCAL_CATALOG, "--to", latest.version])).exitCode).toBe(0);
        const build = await runCli(["build", dir, "--catalog", LOCAL_CATALOG, "--output", "docker", "--installer", installer]);
        expect(build.exitCode, build.stderr).toBe(0);
        images[installer] = `airbyte/${example}:${tag}`;
      }
      const fromUv = distributions(images.uv);
      expect(fromUv.length).toBeGreaterThan(0);
      expect(fromUv, example).toEqual(distributions(images.pip));
    }
  }, 1_800_000);
});
