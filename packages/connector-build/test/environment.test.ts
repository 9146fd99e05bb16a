// The local build environment the setup scripts provide: a Docker daemon with BuildKit, a registry on
// 127.0.0.1:5000, the fixture root image addressed by digest like a production root image, the
// fixture base images, and the PyPI proxy build containers install dependencies through.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parseImageAddress } from "@airbyte-ci/base-images";
import { RegistryClient } from "../src/registry/registry-client.ts";
import { fixtureRoot, localCatalog, pipIndexUrl } from "./helpers.ts";

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

  it("holds 1.1.0 (Poetry) built, checked and published by the setup, with its changelog", async () => {
    const version = localCatalog().get("1.1.0");
    expect(version.changelog).toMatch(/^Local fixture of 1\.1\.0 .*Poetry 2\.2\.1 with poetry-plugin-export 1\.9\.0/);
    expect(version.publishedAddress).toMatch(/^127\.0\.0\.1:5000\/airbyte\/python-connector-base:1\.1\.0@sha256:[0-9a-f]{64}$/);
    expect(version.data.dockerfiles?.["linux/arm64"]).toMatch(/poetry==2\.2\.1/);
    const index = await new RegistryClient().getManifest(version.publishedAddress as string);
    expect(index.kind === "index" && index.manifest.manifests.map((m) => m.platform?.architecture).sort()).toEqual(["amd64", "arm64"]);
  });
});

describe("PyPI proxy on loopback (scripts/env/setup.sh)", () => {
  it("serves PyPI's simple index and its files to a build container on the host network", () => {
    const root = fixtureRoot("amd64");
    // A container does not trust this machine's egress CA; the proxy is its route to PyPI.
    const script = [
      "import hashlib, re, sys, urllib.parse, urllib.request",
      "index = sys.argv[1]",
      "page = urllib.request.urlopen(index + 'six/', timeout=120).read().decode()",
      "href = re.search(r'href=\"([^\"]*six-1\\.16\\.0-py2\\.py3-none-any\\.whl)#sha256=([0-9a-f]{64})\"', page)",
      "data = urllib.request.urlopen(urllib.parse.urljoin(index + 'six/', href.group(1)), timeout=120).read()",
      "print(hashlib.sha256(data).hexdigest() == href.group(2), href.group(2))",
    ].join("\n");
    const out = execFileSync(DOCKER, ["run", "--rm", "--network", "host", root.address, "python3", "-c", script, pipIndexUrl()]).toString().trim();
    // True, and the hash PyPI publishes for six 1.16.0's wheel.
    expect(out).toBe("True 8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254");
  }, 180_000);
});
