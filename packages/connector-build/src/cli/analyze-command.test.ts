import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { compareFixtures, type CompareFixtures } from "../../test/helpers/compare-fixtures.ts";
import { uniqueTag } from "../../test/helpers.ts";
import { docker } from "../engines/docker/docker-client.ts";
import { analyzeCommand } from "./analyze-command.ts";

let f: CompareFixtures;
let tree: string;
let tagB: string;

function connector(name: string, image: string, dockerfile: string): void {
  const dir = join(tree, "airbyte-integrations/connectors", name);
  mkdirSync(dir, { recursive: true });
  const [repository, tag] = [image.slice(0, image.lastIndexOf(":")), image.slice(image.lastIndexOf(":") + 1)];
  writeFileSync(
    join(dir, "metadata.yaml"),
    `data:\n  connectorType: source\n  dockerRepository: ${repository}\n  dockerImageTag: ${tag}\n  language: python\n  supportLevel: certified\n`,
  );
  writeFileSync(join(dir, "setup.py"), "");
  writeFileSync(join(dir, "Dockerfile"), dockerfile);
}

beforeAll(async () => {
  f = await compareFixtures();
  tagB = `airbyte-ci-compare-test/source-b:${uniqueTag()}`;
  await docker(["tag", f.b.ref, tagB]);
  tree = mkdtempSync(join(tmpdir(), "analyze-command-test-"));
  connector("source-compare-a", f.tagA, `FROM ${f.rootAddress}\nWORKDIR /airbyte/integration_code\n`);
  connector("source-compare-b", tagB, `FROM ${f.rootAddress}\nWORKDIR /airbyte/code\n`);
  connector("source-compare-c", "airbyte-ci-compare-test/source-c:missing", `FROM ${f.rootAddress}\nUSER nobody\n`);
}, 300_000);
afterAll(async () => {
  await docker(["rmi", tagB]);
  rmSync(tree, { recursive: true, force: true });
  await f?.cleanup();
});

function capture(): { stdout: () => string; stderr: () => string } {
  let out = "";
  let err = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => ((err += String(chunk)), true));
  return { stdout: () => out, stderr: () => err };
}
afterEach(() => vi.restoreAllMocks());

describe("analyzeCommand", () => {
  it("prints the repository analysis as Markdown, without running images unless asked", async () => {
    const io = capture();
    expect(await analyzeCommand(tree, {})).toBe(0);
    expect(io.stdout()).toMatch(/^# Connector Dockerfile variants\n/);
    expect(io.stdout()).not.toContain("Connector images");
  });

  it("--images analyses each variant's example image against the variants' FROM images, reports and fails on an unreadable one", async () => {
    const io = capture();
    // An incomplete analysis is an outcome: reported on stderr, exit code 1 returned, nothing thrown.
    expect(await analyzeCommand(tree, { images: true, json: true, engine: f.engine })).toBe(1);
    expect(io.stderr()).toContain("connector-build: 1 image could not be (fully) read: airbyte-ci-compare-test/source-c:missing (see Problems)\n");
    const json = JSON.parse(io.stdout());
    expect(json.variants).toHaveLength(3);
    expect(json.images.images.map((i: { reference: string }) => i.reference).sort()).toEqual(["airbyte-ci-compare-test/source-c:missing", f.tagA, tagB].sort());
    expect(json.images.systemPackages.comparedTo).toEqual([f.rootAddress]);
    const added = Object.fromEntries(json.images.systemPackages.added.map((a: { image: string; packages: string[] | null }) => [a.image, a.packages]));
    expect(added).toEqual({
      [f.tagA]: ["airbyte-fake-common", "airbyte-fake-legacy"],
      [tagB]: ["airbyte-fake-common", "airbyte-fake-tool"],
      "airbyte-ci-compare-test/source-c:missing": null,
    });
    expect(json.images.env.imageSpecific.map((e: { name: string }) => e.name)).toEqual(["ONLY_A", "ONLY_B"]);
    expect(io.stderr()).toContain(`inspecting image ${f.tagA}`);
  }, 120_000);

  it("--image gives images by reference (no repository needed) and --base-image their bases; Markdown by default", async () => {
    const io = capture();
    await analyzeCommand(undefined, { image: [f.tagA, tagB], baseImage: [f.rootByDigest], engine: f.engine });
    const md = io.stdout();
    expect(md).toMatch(/^# Connector images\n/);
    expect(md).toContain("| `CHANGED` | `one`<br>`two` |");
    expect(md).toContain(`| \`${tagB}\` | \`airbyte-fake-common\`, \`airbyte-fake-tool\` |`);
  }, 120_000);

  it("selects by --language and --support-level (comma-separated)", async () => {
    const io = capture();
    await analyzeCommand(tree, { language: "java,low-code", supportLevel: ["certified"], json: true });
    const json = JSON.parse(io.stdout());
    expect(json.criteria).toEqual({ languages: ["java", "low-code"], supportLevels: ["certified"] });
    expect(json.selected).toBe(0);
    expect(json.images).toBeUndefined();
  });

  it("refuses contradictory or empty requests", async () => {
    await expect(analyzeCommand(tree, { json: true, markdown: true })).rejects.toThrowError(/exclusive/);
    await expect(analyzeCommand(undefined, {})).rejects.toThrowError(/expected a repository root/);
    await expect(analyzeCommand(undefined, { images: true })).rejects.toThrowError(/give a repository root/);
  });
});
