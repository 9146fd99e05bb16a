import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadProductionCatalog, parseCatalog, type CatalogData } from "@airbyte-ci/base-images";
import { describe, expect, it } from "vitest";
import { DockerEngine } from "../src/engines/docker/docker-engine.ts";
import { RegistryClient } from "../src/registry/registry-client.ts";
import { lockCatalog } from "../src/base-image/catalog-lock.ts";
import { renderCatalogDocs } from "../src/base-image/catalog-docs.ts";
import { releaseBaseImage } from "../src/base-image/release.ts";
import { REPO_ROOT, fixtureRoot, runCli, spawnCli, stageExample, testCatalog as copyCatalog } from "./helpers.ts";

const engine = new DockerEngine();

/** A copy of the local fixture catalog publishing into a repository of its own. */
function testCatalog(mutate: (data: CatalogData) => void = () => {}) {
  return copyCatalog(`127.0.0.1:5000/test-release/r${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`, mutate);
}

describe("base image release against the local registry", () => {
  it("publishes every platform as one index and records the digest the registry reports", async () => {
    const catalog = testCatalog();
    const result = await releaseBaseImage({ catalogPath: catalog.path, engine, bump: "minor", changelog: "Test release." });
    expect(result.version).toBe("1.1.0");
    const client = new RegistryClient();
    const digest = await client.resolveDigest(`${catalog.repository}:1.1.0`);
    expect(result.digest).toBe(digest);
    const index = await client.getManifest(`${catalog.repository}:1.1.0`);
    expect(index.kind).toBe("index");
    if (index.kind === "index") {
      expect(index.manifest.manifests.map((m) => m.platform?.architecture).sort()).toEqual(["amd64", "arm64"]);
    }
    const recorded = parseCatalog(JSON.parse(catalog.bytes())).get("1.1.0");
    expect(recorded.published?.address.digest).toBe(digest);
    expect(recorded.changelog).toBe("Test release.");
    expect(recorded.data.dockerfiles?.["linux/arm64"]).toMatch(/^FROM 127\.0\.0\.1:5000\/python:3\.11-bookworm@sha256:/);
    expect(recorded.recipe.operations.find((o) => o.op === "withLabel" && o.name === "org.opencontainers.image.version")).toMatchObject({ value: "1.1.0" });
    // the next release now starts from 1.1.0, and re-releasing 1.1.0 is refused
    await expect(
      releaseBaseImage({ catalogPath: catalog.path, engine, bump: "minor", changelog: "again", rootImages: { "linux/amd64": "python:3.9-slim" } }),
    ).rejects.toThrowError(/tag-only reference/);
  }, 600_000);

  it("a failing sanity check publishes nothing and leaves the catalog byte-for-byte unchanged", async () => {
    const catalog = testCatalog((data) => {
      data.versions[0]?.sanityChecks.push({ kind: "command", name: "python is 3.9.18", argv: ["python", "--version"], expect: { stdout: "Python 3.9.18" } });
    });
    const before = catalog.bytes();
    await expect(releaseBaseImage({ catalogPath: catalog.path, engine, bump: "patch", changelog: "Broken." })).rejects.toThrowError(
      /failed 2 sanity check\(s\); nothing was published and the catalog is unchanged:\n {2}\[linux\/amd64\] python is 3\.9\.18: expected exit code 0, stdout 'Python 3\.9\.18', saw exit code 0, stdout 'Python 3\.11\.2'\n {2}\[linux\/arm64\] python is 3\.9\.18/,
    );
    expect(catalog.bytes()).toBe(before);
    const client = new RegistryClient();
    expect(await client.tagExists(catalog.repository, "1.0.1")).toBe(false);
    expect(await client.tagExists(catalog.repository, "1.0.1-amd64")).toBe(false);
  }, 600_000);

  it("refuses a root digest of the wrong platform before anything is built or pushed", async () => {
    const catalog = testCatalog();
    const before = catalog.bytes();
    await expect(
      releaseBaseImage({ catalogPath: catalog.path, engine, bump: "minor", changelog: "x", rootImages: { "linux/arm64": fixtureRoot("amd64").address } }),
    ).rejects.toThrowError(/root image for linux\/arm64 refused: .* is the manifest of a linux\/amd64 image .*not linux\/arm64/);
    expect(catalog.bytes()).toBe(before);
    expect(await new RegistryClient().tagExists(catalog.repository, "1.1.0-amd64")).toBe(false);
  });

  it("refuses while the latest version is unpublished, and an existing tag without --force", async () => {
    const unpublished = testCatalog((data) => {
      delete data.versions[0]?.published;
    });
    await expect(releaseBaseImage({ catalogPath: unpublished.path, engine, bump: "minor", changelog: "x" })).rejects.toThrowError(
      /latest version 1\.0\.0 is not published: expected it published before releasing/,
    );
    const catalog = testCatalog();
    const client = new RegistryClient();
    // Occupy the tag 1.1.0 with the fixture root image.
    await client.copyManifest(fixtureRoot("amd64").address, catalog.repository, "1.1.0");
    const before = catalog.bytes();
    await expect(releaseBaseImage({ catalogPath: catalog.path, engine, bump: "minor", changelog: "x" })).rejects.toThrowError(
      /:1\.1\.0 is already published: expected an unused tag \(or --force/,
    );
    expect(catalog.bytes()).toBe(before);
  });

  it("one release at a time per catalog: a second one fails cleanly", async () => {
    const catalog = testCatalog();
    const unlock = lockCatalog(catalog.path);
    try {
      await expect(releaseBaseImage({ catalogPath: catalog.path, engine, bump: "minor", changelog: "x" })).rejects.toThrowError(
        new RegExp(`another release holds ${catalog.path.replaceAll(".", "\\.")}\\.lock \\(pid ${process.pid}\\)`),
      );
    } finally {
      unlock();
    }
  });

  it("SIGINT during a release leaves the catalog unchanged and exits 130", async () => {
    const catalog = testCatalog();
    const before = catalog.bytes();
    const child = spawnCli(["base", "release", "--catalog", catalog.path, "--bump", "minor", "--changelog", "interrupted"]);
    let stderr = "";
    const exit = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
    await new Promise<void>((resolve) => {
      child.stderr.on("data", (b) => {
        stderr += b;
        if (/building 1\.1\.0 for linux\/amd64/.test(stderr)) resolve();
      });
    });
    child.kill("SIGINT");
    expect(await exit).toBe(130);
    expect(stderr).toMatch(/interrupted: nothing was recorded in the catalog/);
    expect(catalog.bytes()).toBe(before);
    expect(await new RegistryClient().tagExists(catalog.repository, "1.1.0")).toBe(false);
  }, 300_000);
});

describe("base image docs", () => {
  it("the committed docs page is what `base docs` generates from the production catalog", () => {
    const committed = readFileSync(join(REPO_ROOT, "docs/base-images.md"), "utf8");
    expect(committed).toBe(renderCatalogDocs(loadProductionCatalog()));
    expect(committed).toContain("sha256:40582fe697811beb7bfceef2087416336faa990fd7e24984a7c18a86d3423d58");
    expect(committed).toContain("### Dockerfile (linux/arm64)");
  });
});

describe("CLI base commands", () => {
  it("prints the 1.0.0 Dockerfile starting with the seed's digest per platform", async () => {
    const amd = await runCli(["base", "dockerfile", "1.0.0", "--platform", "linux/amd64"]);
    expect(amd.exitCode).toBe(0);
    expect(amd.stdout.split("\n")[0]).toBe("FROM docker.io/library/python:3.9.18-bookworm@sha256:40582fe697811beb7bfceef2087416336faa990fd7e24984a7c18a86d3423d58");
    const arm = await runCli(["base", "dockerfile", "1.0.0", "--platform", "linux/arm64"]);
    expect(arm.stdout.split("\n")[0]).toBe("FROM docker.io/library/python:3.9.18-bookworm@sha256:0d132e30eb9325d53c790738e5478e9abffc98b69115e7de429d7c6fc52dddac");
  });

  it("lists versions as JSON and refuses bad input with exit code 2", async () => {
    const list = await runCli(["base", "list", "--json"]);
    expect(JSON.parse(list.stdout).versions[0].platforms["linux/arm64"]).toBe("sha256:0d132e30eb9325d53c790738e5478e9abffc98b69115e7de429d7c6fc52dddac");
    const bad = await runCli(["base", "dockerfile", "1.0.0", "--platform", "linux/386"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/unknown platform 'linux\/386': expected one of linux\/amd64, linux\/arm64/);
    const unknown = await runCli(["base", "dockerfile", "7.0.0", "--platform", "linux/amd64"]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/base image version '7\.0\.0' is not in the python-connector-base catalog: expected one of 2\.0\.0, 1\.1\.0, 1\.0\.0/);
    const noCatalog = await runCli(["base", "list", "--catalog", "/nope/catalog.json"]);
    expect(noCatalog.exitCode).toBe(2);
    expect(noCatalog.stderr).toMatch(/catalog file \/nope\/catalog\.json does not exist/);
  });

  it("checks the fixture base image through the CLI (build + sanity checks)", async () => {
    const check = await runCli(["base", "check", "1.0.0", "--catalog", "local", "--platform", "linux/amd64", "--engine", "docker"], { cwd: REPO_ROOT });
    expect(check.exitCode).toBe(0);
    expect(check.stdout).toMatch(/14 sanity checks passed for base image 1\.0\.0/);
  });
});

describe("bump-base", () => {
  it("rewrites baseImage keeping every comment; --dry-run prints the diff and changes nothing", async () => {
    const dir = await stageExample("source-hello");
    const path = join(dir, "metadata.yaml");
    const catalog = testCatalog((data) => {
      data.versions.push({ ...(data.versions[0] as CatalogData["versions"][number]), version: "1.0.1", published: { digest: `sha256:${"1".repeat(64)}` } });
    });
    const before = readFileSync(path, "utf8");
    const dry = await runCli(["bump-base", dir, "--catalog", catalog.path, "--dry-run"]);
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toMatch(/^diff --git a\/.*metadata\.yaml b\/.*\n--- a\/.*metadata\.yaml\n\+\+\+ b\/.*\n@@ /);
    expect(dry.stdout).toContain(`+    baseImage: ${catalog.repository}:1.0.1@sha256:${"1".repeat(64)}`);
    expect(readFileSync(path, "utf8")).toBe(before);
    const real = await runCli(["bump-base", dir, "--catalog", catalog.path]);
    expect(real.exitCode).toBe(0);
    const after = readFileSync(path, "utf8");
    const changed = after.split("\n").filter((l, i) => l !== before.split("\n")[i]);
    expect(changed).toEqual([`    baseImage: ${catalog.repository}:1.0.1@sha256:${"1".repeat(64)}`]);
    expect(after).toContain("# The base image, digest-pinned. connector-build bump-base rewrites this line only.");
    const unknown = await runCli(["bump-base", dir, "--catalog", catalog.path, "--to", "3.0.0"]);
    expect(unknown.exitCode).toBe(2);
    expect(readFileSync(path, "utf8")).toBe(after);
  });
});
