// `connector-build sbom` of images a user has besides published ones, on the real Docker engine and
// registry: an image `build --output docker` loaded into the local Docker (found by its name, no
// registry involved), an OCI layout tarball (loaded into Docker for the run, removed afterwards), and
// the same image pushed to the local registry (the registry path), all three with the same packages.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Spec, Validation } from "@cyclonedx/cyclonedx-library";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConnectors, type ConnectorBuildResult } from "../src/build/build-connectors.ts";
import { DockerEngine } from "../src/engines/docker/docker-engine.ts";
import { RegistryClient } from "../src/registry/registry-client.ts";
import { localCatalog, runCli, stageExample, uniqueTag } from "./helpers.ts";
import { uniqueName } from "./helpers/supply-chain.ts";

const DOCKER = "/usr/bin/docker";
const engine = new DockerEngine();
const tag = uniqueTag("0.1.0");
const local = `airbyte/source-hello:${tag}`;
const work = mkdtempSync(join(tmpdir(), "sbom-local-"));
let built: ConnectorBuildResult;
/** The digest of the linux/amd64 manifest of the base image the staged connector names (its metadata's baseImage). */
let baseDigest: string;

interface Component {
  type: string;
  name: string;
  version?: string;
  purl?: string;
  hashes?: Array<{ alg: string; content: string }>;
}
interface Doc {
  metadata: { component: Component };
  components: Component[];
}

async function parsed(json: string): Promise<Doc> {
  expect(await new Validation.JsonStrictValidator(Spec.Version.v1dot6).validate(json)).toBeNull();
  return JSON.parse(json) as Doc;
}
const purls = (doc: Doc) => doc.components.map((c) => c.purl).filter((p) => p?.startsWith("pkg:deb") || p?.startsWith("pkg:pypi")).sort();
const held = (ref: string) => {
  try {
    execFileSync(DOCKER, ["image", "inspect", ref], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  const dir = await stageExample("source-hello", { tag });
  const baseAddress = /baseImage: (\S+@sha256:[0-9a-f]{64})/.exec(readFileSync(join(dir, "metadata.yaml"), "utf8"))?.[1] as string;
  const index = await new RegistryClient().getManifest(baseAddress);
  baseDigest = (index.kind === "index" ? index.manifest.manifests.find((m) => m.platform?.architecture === "amd64")?.digest : undefined) as string;
  const [result] = await buildConnectors([dir], { engine, catalog: localCatalog(), platforms: ["linux/amd64"], output: { kind: "docker" } });
  if (result?.status !== "success") throw new Error(`build failed: ${result?.error?.message}`);
  built = result;
}, 600_000);

afterAll(() => {
  // The image is this file's own (its unique tag is in its labels): remove it under every tag it got.
  const id = built?.platforms[0]?.imageId;
  if (id !== undefined && held(id)) execFileSync(DOCKER, ["image", "rm", "--force", id], { stdio: "ignore" });
  rmSync(work, { recursive: true, force: true });
});

describe("sbom of a local image, an OCI tarball and a registry image (real Docker and registry)", () => {
  let localDoc: Doc;

  it("a name the local Docker holds (build --output docker) is read locally: Debian and Python packages, the connector's own, the base image", { timeout: 300_000 }, async () => {
    expect(held(local)).toBe(true);
    const run = await runCli(["sbom", local]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toContain(`generating the SBOM of the local Docker image ${local} (${built.platforms[0]?.imageId}) by running it`);
    localDoc = await parsed(run.stdout);
    expect(localDoc.metadata.component).toMatchObject({ type: "container", name: "airbyte/source-hello", version: tag });
    const byName = new Map(localDoc.components.map((c) => [c.name, c]));
    expect(byName.get("source-hello")?.purl).toBe("pkg:pypi/source-hello@0.0.0");
    expect(byName.get("pip")?.version).toBe("23.0.1");
    expect(byName.get("libc6")?.purl).toMatch(/^pkg:deb\/debian\/libc6@.+\?arch=amd64&distro=debian-12$/);
    expect(localDoc.components.filter((c) => c.purl?.startsWith("pkg:deb/")).length).toBeGreaterThan(50);
    // The base image, from the image's labels: the base's linux/amd64 manifest.
    expect(localDoc.components.find((c) => c.type === "container")?.hashes).toEqual([{ alg: "SHA-256", content: baseDigest.slice(7) }]);
  });

  it("docker: never looks elsewhere; a local image has nowhere to --publish; --engine dagger is refused for it", async () => {
    const missing = await runCli(["sbom", `docker:airbyte/source-hello:${uniqueTag("9.9.9")}`]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/the local Docker holds no image airbyte\/source-hello:9\.9\.9-\S+ \(see docker image ls\)/);
    const publish = await runCli(["sbom", local, "--publish"]);
    expect(publish.exitCode).toBe(2);
    expect(publish.stderr).toContain(`${local} is a local Docker image`);
    const dagger = await runCli(["sbom", `docker:${local}`, "--engine", "dagger"]);
    expect(dagger.exitCode).toBe(2);
    expect(dagger.stderr).toContain("is read through the Docker engine");
  });

  it("oci:<tarball>: the image is loaded into Docker for the run and removed after; named by its labels, addressed by its manifest digest", { timeout: 300_000 }, async () => {
    const tarball = join(work, "source-hello.tar");
    await engine.exportOci([{ engine: "docker", platform: "linux/amd64", ref: built.platforms[0]?.imageId as string }], tarball);
    const index = JSON.parse(execFileSync("tar", ["-xOf", tarball, "./index.json"], { encoding: "utf8" })) as { manifests: Array<{ digest: string }> };
    // The local Docker no longer holds the image: the tarball alone has it.
    execFileSync(DOCKER, ["image", "rm", local], { stdio: "ignore" });
    const id = built.platforms[0]?.imageId as string;
    expect(held(id)).toBe(false);
    const run = await runCli(["sbom", `oci:${tarball}`]);
    expect(run.exitCode, run.stderr).toBe(0);
    const doc = await parsed(run.stdout);
    expect(doc.metadata.component).toMatchObject({ name: "airbyte/source-hello", version: tag, hashes: [{ alg: "SHA-256", content: index.manifests[0]?.digest.slice(7) }] });
    expect(purls(doc)).toEqual(purls(localDoc));
    expect(held(id)).toBe(false); // what the read loaded is gone again
    const notTar = join(work, "not-a-tarball.tar");
    execFileSync("sh", ["-c", `echo hello > ${notTar}`]);
    const bad = await runCli(["sbom", `oci:${notTar}`]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain(`oci:${notTar}: cannot be unpacked as a tar archive`);
    // An OCI layout folder (skopeo's oci:<dir>) is read in place, and left as it was.
    const folder = join(work, "layout");
    execFileSync("sh", ["-c", `mkdir ${folder} && tar -xf ${tarball} -C ${folder}`]);
    const listing = () => execFileSync("find", [folder, "-printf", "%P %s\n"], { encoding: "utf8" });
    const before = listing();
    const fromFolder = await runCli(["sbom", `oci:${folder}`]);
    expect(fromFolder.exitCode, fromFolder.stderr).toBe(0);
    expect(purls(await parsed(fromFolder.stdout))).toEqual(purls(localDoc));
    expect(listing()).toBe(before);
    const arm = await runCli(["sbom", `oci:${tarball}`, "--platform", "linux/arm64"]);
    expect(arm.exitCode).toBe(2);
    expect(arm.stderr).toContain(`oci:${tarball} holds no linux/arm64 image (found: linux/amd64)`);
  });

  it("a reference naming a registry host goes to the registry: the same packages as the local image", { timeout: 300_000 }, async () => {
    // Load the image again (from its tarball) and push it to the local registry.
    const reference = `127.0.0.1:5000/sbom-local/${uniqueName("r")}/airbyte/source-hello:${tag}`;
    const imported = await engine.importOci(join(work, "source-hello.tar"));
    try {
      await engine.publish(imported.images.map((i) => i.image), reference);
    } finally {
      await imported.release();
    }
    const run = await runCli(["sbom", reference, "--engine", "docker"]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/generating the SBOM of 127\.0\.0\.1:5000\/.*@sha256:[0-9a-f]{64} by running it/);
    expect(purls(await parsed(run.stdout))).toEqual(purls(localDoc));
  });
});
