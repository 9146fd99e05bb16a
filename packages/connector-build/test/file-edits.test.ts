// File edits and reads: edits keep file identity and are read back before the rename (a symlinked
// catalog is edited through); only regular files are read, so a FIFO never hangs the tool.
import { execFileSync } from "node:child_process";
import { chmodSync, cpSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, renameSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CatalogData } from "@airbyte-ci/base-images";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { recordVersion } from "../src/base-image/catalog-file.ts";
import { LOCAL_CATALOG, runCli, stageExample, testCatalog } from "./helpers.ts";

const NEXT = `sha256:${"1".repeat(64)}`;
function catalogWith101() {
  return testCatalog("127.0.0.1:5000/harden/python-connector-base", (data) => {
    data.versions.push({ ...(data.versions[0] as CatalogData["versions"][number]), version: "1.0.1", published: { digest: NEXT } });
  });
}
const mkfifo = (path: string) => execFileSync("/usr/bin/mkfifo", [path]);

describe("bump-base edits that could corrupt or lose (class 3)", () => {
  it("a block-scalar baseImage (>-) is refused with exit 2 and the file is untouched", async () => {
    const dir = await stageExample("source-hello");
    const path = join(dir, "metadata.yaml");
    const source = readFileSync(path, "utf8").replace(/baseImage: (.*)/, "baseImage: >-\n      $1");
    writeFileSync(path, source);
    const cli = await runCli(["bump-base", dir, "--catalog", catalogWith101().path]);
    expect(cli.exitCode).toBe(2);
    expect(cli.stderr).toMatch(/metadata\.yaml: data\.connectorBuildOptions\.baseImage is a block scalar \(>\): expected a plain one-line value .*nothing was written/);
    expect(readFileSync(path, "utf8")).toBe(source);
  });

  it("an empty baseImage is set, and the result reads back as valid YAML with the new address", async () => {
    const dir = await stageExample("source-hello");
    const path = join(dir, "metadata.yaml");
    writeFileSync(path, readFileSync(path, "utf8").replace(/baseImage: .*/, "baseImage:"));
    const catalog = catalogWith101();
    const cli = await runCli(["bump-base", dir, "--catalog", catalog.path]);
    expect(cli.exitCode, cli.stderr).toBe(0);
    expect(parse(readFileSync(path, "utf8")).data.connectorBuildOptions.baseImage).toBe(`${catalog.repository}:1.0.1@${NEXT}`);
  });

  it("a symlinked metadata.yaml is edited through (the link stays, the target changes) and mode 444 is kept", async () => {
    const dir = await stageExample("source-hello");
    const shared = mkdtempSync(join(tmpdir(), "harden-shared-"));
    const target = join(shared, "metadata.yaml");
    renameSync(join(dir, "metadata.yaml"), target);
    symlinkSync(target, join(dir, "metadata.yaml"));
    chmodSync(target, 0o444);
    const catalog = catalogWith101();
    const cli = await runCli(["bump-base", dir, "--catalog", catalog.path]);
    expect(cli.exitCode, cli.stderr).toBe(0);
    expect(lstatSync(join(dir, "metadata.yaml")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, "metadata.yaml"))).toBe(target);
    expect(readFileSync(target, "utf8")).toContain(`baseImage: ${catalog.repository}:1.0.1@${NEXT}`);
    expect(statSync(target).mode & 0o777).toBe(0o444);
  });
});

describe("only regular files are read: a FIFO never hangs the tool (class 5)", () => {
  it("a FIFO as metadata.yaml: build refuses it at once (exit 2)", async () => {
    const dir = await stageExample("source-hello");
    const path = join(dir, "metadata.yaml");
    execFileSync("rm", [path]);
    mkfifo(path);
    const cli = await runCli(["build", "--engine", "docker", "--output", "none", dir]);
    expect(cli.exitCode).toBe(2);
    expect(cli.stderr).toMatch(/metadata\.yaml.*is a FIFO \(named pipe\), not a regular file: expected a regular file/);
  }, 60_000);

  it("a FIFO as bump-base's metadata.yaml and as --catalog: exit 2, no hang", async () => {
    const dir = await stageExample("source-hello");
    execFileSync("rm", [join(dir, "metadata.yaml")]);
    mkfifo(join(dir, "metadata.yaml"));
    const bump = await runCli(["bump-base", dir, "--catalog", catalogWith101().path]);
    expect(bump.exitCode).toBe(2);
    expect(bump.stderr).toMatch(/is a FIFO \(named pipe\), not a regular file/);
    const fifoCatalog = join(mkdtempSync(join(tmpdir(), "harden-fifo-")), "catalog.json");
    mkfifo(fifoCatalog);
    const list = await runCli(["base", "list", "--catalog", fifoCatalog]);
    expect(list.exitCode).toBe(2);
    expect(list.stderr).toMatch(/catalog file .*catalog\.json is a FIFO \(named pipe\), not a regular file/);
  }, 60_000);

  it("a FIFO as a connector's Dockerfile: analyze lists it as unreadable and goes on", async () => {
    const root = mkdtempSync(join(tmpdir(), "harden-analyze-"));
    const dir = join(root, "source-fifo");
    mkdirSync(dir);
    writeFileSync(
      join(dir, "metadata.yaml"),
      "data:\n  dockerRepository: airbyte/source-fifo\n  dockerImageTag: 0.1.0\n  language: python\n  supportLevel: certified\n",
    );
    mkfifo(join(dir, "Dockerfile"));
    const cli = await runCli(["analyze", root, "--json"]);
    expect(cli.stdout).toMatch(/is a FIFO \(named pipe\), not a regular file/);
  }, 60_000);
});

describe("a symlinked catalog is edited through (class 8)", () => {
  it("recordVersion writes the link's target and keeps the link", () => {
    const dir = mkdtempSync(join(tmpdir(), "harden-catalog-"));
    const real = join(dir, "real.json");
    cpSync(LOCAL_CATALOG, real);
    const link = join(dir, "catalog.json");
    symlinkSync(real, link);
    const bytes = readFileSync(link, "utf8");
    const first = (JSON.parse(bytes) as CatalogData).versions[0] as CatalogData["versions"][number];
    recordVersion(link, bytes, { ...first, version: "9.9.9" }, false);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect((JSON.parse(readFileSync(real, "utf8")) as CatalogData).versions.map((v) => v.version)).toContain("9.9.9");
  });
});
