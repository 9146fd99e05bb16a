// The local build environment the setup scripts provide: a Docker daemon with BuildKit, a registry on
// 127.0.0.1:5000, and the fixture root image addressed by digest like a production root image.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parseImageAddress } from "@airbyte-ci/base-images";
import { RegistryClient } from "../src/registry/registry-client.ts";
import { fixtureRoot, localCatalog } from "./helpers.ts";

const DOCKER = "/usr/bin/docker";

describe.each(["amd64", "arm64"] as const)("fixture root image (%s)", (arch) => {
  const root = fixtureRoot(arch);

  it("is served by the local registry at its recorded digest, as the manifest of its platform", async () => {
    const address = parseImageAddress(root.address);
    expect(address.registry).toBe("127.0.0.1:5000");
    expect(address.digest).toBe(root.digest);
    const client = new RegistryClient();
    expect(await client.resolveDigest(root.address)).toBe(root.digest);
    await expect(client.assertPlatform(root.address, `linux/${arch}`)).resolves.toMatchObject({ digest: root.digest });
  });

  it("is pulled by digest from the registry and runs python3 --version", () => {
    const pulled = execFileSync(DOCKER, ["pull", "--platform", `linux/${arch}`, root.address]).toString();
    expect(pulled).toContain(`Digest: ${root.digest}`);
    const repoDigests = execFileSync(DOCKER, ["image", "inspect", "--format", "{{json .RepoDigests}}", root.address]).toString();
    expect(JSON.parse(repoDigests)).toContain(`127.0.0.1:5000/python@${root.digest}`);
    const version = execFileSync(DOCKER, ["run", "--rm", "--platform", `linux/${arch}`, root.address, "python3", "--version"]).toString();
    expect(version.trim()).toBe(`Python ${root.pythonVersion}`);
    const env = execFileSync(DOCKER, ["run", "--rm", "--platform", `linux/${arch}`, root.address, "printenv", "PYTHON_VERSION", "LANG"]).toString();
    expect(env.trim().split("\n")).toEqual([root.pythonVersion, "C.UTF-8"]);
  }, 120_000);
});

describe("local fixture catalog", () => {
  it("holds 1.0.0 on the fixture root images, published to the local registry", async () => {
    const version = localCatalog().get("1.0.0");
    expect(version.rootImage("linux/amd64").digest).toBe(fixtureRoot("amd64").digest);
    expect(version.rootImage("linux/arm64").digest).toBe(fixtureRoot("arm64").digest);
    expect(version.publishedAddress).toMatch(/^127\.0\.0\.1:5000\/airbyte\/python-connector-base:1\.0\.0@sha256:[0-9a-f]{64}$/);
    const index = await new RegistryClient().getManifest(version.publishedAddress as string);
    expect(index.kind).toBe("index");
  });
});
