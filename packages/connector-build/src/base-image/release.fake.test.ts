// Fast unit tests of the release procedure on the in-memory engine: no container, no registry.
// The real-engine release tests (test/release.test.ts) keep running against Docker and the registry.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCatalog, type CatalogData } from "@airbyte-ci/base-images";
import { describe, expect, it } from "vitest";
import { FakeEngine } from "../engines/fake/fake-engine.ts";
import { exitCodeFor } from "../errors.ts";
import { publishBaseImage, releaseBaseImage } from "./release.ts";

const ROOT = "registry.example/python:3.11@sha256:" + "a".repeat(64);
const ROOT_ARM = "registry.example/python:3.11@sha256:" + "b".repeat(64);

function catalogFile(published = true): { path: string; bytes: () => string } {
  const data = {
    name: "fake base",
    repository: "registry.example/airbyte/python-connector-base",
    versions: [
      {
        version: "1.0.0",
        changelog: "first",
        rootImages: { "linux/amd64": ROOT, "linux/arm64": ROOT_ARM },
        recipe: [
          { op: "withEnvVariable", name: "LANG", value: "C.UTF-8" },
          { op: "withNewFile", path: "/etc/greeting", contents: "hello" },
          { op: "withLabel", name: "io.airbyte.version", value: "1.0.0" },
        ],
        sanityChecks: [
          { kind: "command", name: "greeting", argv: ["cat", "/etc/greeting"], expect: { stdout: "hello" } },
          { kind: "env", name: "LANG", variable: "LANG", value: "C.UTF-8" },
          { kind: "label", name: "version label", label: "io.airbyte.version", value: "1.0.0" },
        ],
        ...(published ? { published: { digest: `sha256:${"c".repeat(64)}` } } : {}),
      },
    ],
  } as unknown as CatalogData;
  parseCatalog(data, "fake catalog");
  const path = join(mkdtempSync(join(tmpdir(), "arch-fake-catalog-")), "catalog.json");
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
  return { path, bytes: () => readFileSync(path, "utf8") };
}

describe("releaseBaseImage on the fake engine", () => {
  it("builds every platform, checks, publishes one index and records the digest the registry reports", async () => {
    const catalog = catalogFile();
    const engine = new FakeEngine();
    const log: string[] = [];
    const result = await releaseBaseImage({ catalogPath: catalog.path, engine, registry: engine.registry, bump: "minor", changelog: "a minor release", log: (l) => log.push(l) });
    expect(result.version).toBe("1.1.0");
    expect(engine.builds.map((b) => b.platform)).toEqual(["linux/amd64", "linux/arm64"]);
    // The version label follows the new version; the first operation is the root image.
    expect(engine.builds[0]?.recipe.operations[0]).toEqual({ op: "from", address: ROOT });
    expect(engine.builds[0]?.recipe.operations).toContainEqual({ op: "withLabel", name: "io.airbyte.version", value: "1.1.0" });
    expect(result.report.passed).toBe(true);
    expect(result.report.results).toHaveLength(6);
    expect(engine.publications.map((p) => p.reference)).toEqual(["registry.example/airbyte/python-connector-base:1.1.0"]);
    expect(result.digest).toBe(engine.publications[0]?.digest);
    const recorded = parseCatalog(JSON.parse(catalog.bytes())).get("1.1.0");
    expect(recorded.published?.address.digest).toBe(result.digest);
    expect(recorded.data.dockerfiles?.["linux/arm64"]).toContain(`FROM ${ROOT_ARM}`);
    expect(log).toContain("building 1.1.0 for linux/amd64 on docker");
  });

  it("a failing sanity check publishes nothing and leaves the catalog unchanged", async () => {
    const catalog = catalogFile();
    const before = catalog.bytes();
    const engine = new FakeEngine({ onRun: (_image, argv) => (argv[0] === "cat" ? { stdout: "bye\n", stderr: "", exitCode: 0 } : undefined) });
    const error = await releaseBaseImage({ catalogPath: catalog.path, engine, registry: engine.registry, bump: "patch", changelog: "x" }).catch((e: unknown) => e);
    expect(exitCodeFor(error)).toBe(1);
    expect((error as Error).message).toMatch(/failed 2 sanity check\(s\); nothing was published.*\n.*\[linux\/amd64\] greeting: expected exit code 0, stdout 'hello', saw exit code 0, stdout 'bye'/s);
    expect(engine.publications).toEqual([]);
    expect(catalog.bytes()).toBe(before);
  });

  it("an aborted signal stops before publishing: INTERRUPTED (exit 130), catalog unchanged", async () => {
    const catalog = catalogFile();
    const before = catalog.bytes();
    const engine = new FakeEngine();
    const controller = new AbortController();
    controller.abort();
    const error = await releaseBaseImage({ catalogPath: catalog.path, engine, registry: engine.registry, bump: "patch", changelog: "x", signal: controller.signal }).catch((e: unknown) => e);
    expect(exitCodeFor(error)).toBe(130);
    expect(engine.builds).toEqual([]);
    expect(catalog.bytes()).toBe(before);
  });

  it("refuses to release after an unpublished version, and a used tag, before any build (exit 2)", async () => {
    const unpublished = catalogFile(false);
    const engine = new FakeEngine();
    const refused = await releaseBaseImage({ catalogPath: unpublished.path, engine, registry: engine.registry, bump: "patch", changelog: "x" }).catch((e: unknown) => e);
    expect((refused as Error).message).toMatch(/latest version 1\.0\.0 is not published/);
    expect(exitCodeFor(refused)).toBe(2);
    const published = await publishBaseImage({ catalogPath: unpublished.path, engine, registry: engine.registry, version: "1.0.0" });
    expect(published.address).toBe(`registry.example/airbyte/python-connector-base:1.0.0@${engine.publications[0]?.digest}`);
    const again = await publishBaseImage({ catalogPath: unpublished.path, engine, registry: engine.registry, version: "1.0.0" }).catch((e: unknown) => e);
    expect((again as Error).message).toMatch(/already published/);
    expect(engine.builds).toHaveLength(2);
  });

  it("release and publish hand the pip index to every build, as secrets behind each from", async () => {
    // A fresh machine has no cached layer: a publish that forgot the index went to pypi.org and failed.
    const pipIndex = { indexUrl: "http://127.0.0.1:3141/root/pypi/+simple/" };
    const runs = [
      // publish: an unpublished version; release: a new version after a published one.
      (engine: FakeEngine) => publishBaseImage({ catalogPath: catalogFile(false).path, engine, registry: engine.registry, version: "1.0.0", pipIndex }),
      (engine: FakeEngine) => releaseBaseImage({ catalogPath: catalogFile(true).path, engine, registry: engine.registry, bump: "patch", changelog: "x", pipIndex }),
    ];
    for (const run of runs) {
      const engine = new FakeEngine();
      await run(engine);
      expect(engine.builds.length).toBeGreaterThan(0);
      for (const build of engine.builds) {
        expect(build.secrets?.["pip-index-url"]).toBe(pipIndex.indexUrl);
        expect(build.recipe.operations[1]).toEqual({ op: "withSecretVariable", name: "PIP_INDEX_URL", secret: "pip-index-url" });
      }
    }
  });

  it("a catalog that is not JSON is CATALOG_INVALID_JSON (exit 2), not CATALOG_NOT_FOUND", async () => {
    const catalog = catalogFile();
    writeFileSync(catalog.path, "{ not json");
    const error = await releaseBaseImage({ catalogPath: catalog.path, engine: new FakeEngine(), bump: "patch", changelog: "x" }).catch((e: unknown) => e);
    expect((error as { code: string }).code).toBe("CATALOG_INVALID_JSON");
    expect(exitCodeFor(error)).toBe(2);
  });
});
