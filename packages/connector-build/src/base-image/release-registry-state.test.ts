// A release reports what is in the registry (even when interrupted), and records an address that resolves.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCatalog, type CatalogData } from "@airbyte-ci/base-images";
import { describe, expect, it } from "vitest";
import { FakeEngine } from "../engines/fake/fake-engine.ts";
import { exitCodeFor } from "../errors.ts";
import { releaseBaseImage } from "./release.ts";

const ROOT = "registry.example/python:3.11@sha256:" + "a".repeat(64);

function catalogFile(): { path: string; bytes: () => string } {
  const data = {
    name: "fake base",
    repository: "registry.example/airbyte/python-connector-base",
    versions: [
      {
        version: "1.0.0",
        changelog: "first",
        rootImages: { "linux/amd64": ROOT },
        recipe: [{ op: "withEnvVariable", name: "LANG", value: "C.UTF-8" }],
        sanityChecks: [{ kind: "env", name: "LANG", variable: "LANG", value: "C.UTF-8" }],
        published: { digest: `sha256:${"c".repeat(64)}` },
      },
    ],
  } as unknown as CatalogData;
  const path = join(mkdtempSync(join(tmpdir(), "harden-release-")), "catalog.json");
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
  return { path, bytes: () => readFileSync(path, "utf8") };
}

describe("release honesty", () => {
  it("interrupted just after 'publishing': says the tag is in the registry, with its digest and how to resume (exit 130)", async () => {
    const catalog = catalogFile();
    const before = catalog.bytes();
    const engine = new FakeEngine();
    const controller = new AbortController();
    const error = await releaseBaseImage({
      catalogPath: catalog.path,
      engine,
      registry: engine.registry,
      bump: "patch",
      changelog: "interrupted",
      signal: controller.signal,
      log: (line) => {
        if (line.startsWith("publishing")) controller.abort();
      },
    }).then(
      () => new Error("expected the release to be interrupted"),
      (e: unknown) => e as Error,
    );
    expect(exitCodeFor(error)).toBe(130);
    const digest = engine.publications[0]?.digest;
    expect(error.message).toBe(
      `interrupted while publishing: registry.example/airbyte/python-connector-base:1.0.1 is in the registry (${digest}) but was not recorded in the catalog; to record it, run the same release again with --force: it rebuilds, overwrites the tag and records it`,
    );
    expect(error.message).not.toMatch(/nothing was recorded/);
    expect(catalog.bytes()).toBe(before);
  });

  it("--publish-to another repository records an address in that repository, which resolves", async () => {
    const catalog = catalogFile();
    const engine = new FakeEngine();
    const result = await releaseBaseImage({ catalogPath: catalog.path, engine, registry: engine.registry, bump: "patch", changelog: "elsewhere", publishTo: "mirror.example/team/base" });
    const recorded = parseCatalog(JSON.parse(catalog.bytes())).get("1.0.1");
    expect(recorded.publishedAddress).toBe(`mirror.example/team/base:1.0.1@${result.digest}`);
    expect(await engine.registry.resolveDigest("mirror.example/team/base:1.0.1")).toBe(result.digest);
  });
});
