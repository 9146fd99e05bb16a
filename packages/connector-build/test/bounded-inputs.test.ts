// Big or odd inputs get a clear error (exit 2), never a crash: huge counts and files, directories
// where a file is expected, and names carrying terminal escape sequences. No engine is needed.
import { cpSync, linkSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync, chownSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CatalogData } from "@airbyte-ci/base-images";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, runCli, stageExample, testCatalog } from "./helpers.ts";

const NEXT = `sha256:${"1".repeat(64)}`;
const catalogWith101 = () =>
  testCatalog("127.0.0.1:5000/harden/python-connector-base", (data) => {
    data.versions.push({ ...(data.versions[0] as CatalogData["versions"][number]), version: "1.0.1", published: { digest: NEXT } });
  });

describe("counts and sizes are bounded", () => {
  it("--shard 1/2000000000 is refused at once (exit 2), not run out of memory", async () => {
    const cli = await runCli(["build", join(REPO_ROOT, "examples/source-hello"), "--shard", "1/2000000000", "--list"]);
    expect(cli.exitCode).toBe(2);
    expect(cli.stderr).toMatch(/--shard '1\/2000000000': 2000000000 shards: expected at most 1000/);
  });

  it("report merges 200,000 results without overflowing the stack (exit 1: one failed)", async () => {
    const results = Array.from({ length: 200_000 }, (_, i) => ({
      connector: `source-${i}`,
      dir: `/c/source-${i}`,
      status: i === 7 ? "failed" : "success",
      durationMs: 1,
      platforms: [{ platform: "linux/amd64" }],
      ...(i === 7 ? { error: { code: "BUILD_FAILED", message: "boom" } } : {}),
    }));
    const file = join(mkdtempSync(join(tmpdir(), "report-")), "results.json");
    writeFileSync(file, JSON.stringify(results));
    const cli = await runCli(["report", file]);
    expect(cli.stderr).not.toMatch(/RangeError|Maximum call stack/);
    expect(cli.exitCode).toBe(1);
    expect(cli.stdout).toMatch(/200000 connectors: 199999 built, 0 cached, 1 failed/);
  }, 120_000);

  it("bump-base on a metadata.yaml over 1 MiB is refused with its size (exit 2), the file untouched", async () => {
    const dir = await stageExample("source-hello");
    const path = join(dir, "metadata.yaml");
    const big = `${readFileSync(path, "utf8")}\n# ${"x".repeat(2 * 1024 * 1024)}\n`;
    writeFileSync(path, big);
    const cli = await runCli(["bump-base", dir, "--catalog", catalogWith101().path]);
    expect(cli.exitCode).toBe(2);
    expect(cli.stderr).toMatch(/metadata\.yaml is \d+ bytes: expected at most 1048576 bytes/);
    expect(readFileSync(path, "utf8")).toBe(big);
  });
});

describe("a directory where a file is expected: exit 2 with what was expected", () => {
  it("metadata.yaml that is a directory (build and bump-base)", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "eisdir-")), "source-x");
    mkdirSync(join(dir, "metadata.yaml"), { recursive: true });
    const bump = await runCli(["bump-base", dir, "--catalog", catalogWith101().path]);
    expect(bump.exitCode).toBe(2);
    expect(bump.stderr).toMatch(/metadata\.yaml is a directory: expected a metadata\.yaml file/);
    expect(bump.stderr).not.toMatch(/EISDIR/);
    const build = await runCli(["build", dir, "--engine", "docker", "--output", "none"]);
    expect(build.exitCode).toBe(2);
    expect(build.stderr).toMatch(/metadata\.yaml.*is a directory/);
    expect(build.stderr).not.toMatch(/EISDIR/);
  });

  it("--catalog that is a directory", async () => {
    const cli = await runCli(["base", "list", "--catalog", mkdtempSync(join(tmpdir(), "catalog-dir-"))]);
    expect(cli.exitCode).toBe(2);
    expect(cli.stderr).toMatch(/catalog file .* is a directory: expected a catalog JSON file/);
    expect(cli.stderr).not.toMatch(/EISDIR/);
  });
});

describe("bump-base keeps the file's identity", () => {
  it.runIf(process.getuid?.() === 0)("as root, a user's metadata.yaml keeps its owner and group", async () => {
    const dir = await stageExample("source-hello");
    const path = join(dir, "metadata.yaml");
    chownSync(path, 4321, 4322);
    const cli = await runCli(["bump-base", dir, "--catalog", catalogWith101().path]);
    expect(cli.exitCode, cli.stderr).toBe(0);
    expect(readFileSync(path, "utf8")).toContain(NEXT);
    expect([statSync(path).uid, statSync(path).gid]).toEqual([4321, 4322]);
  });

  it("a hard-linked metadata.yaml stays linked: both names see the new content", async () => {
    const dir = await stageExample("source-hello");
    const path = join(dir, "metadata.yaml");
    const other = join(mkdtempSync(join(tmpdir(), "hardlink-")), "metadata.yaml");
    linkSync(path, other);
    const cli = await runCli(["bump-base", dir, "--catalog", catalogWith101().path]);
    expect(cli.exitCode, cli.stderr).toBe(0);
    expect(statSync(path).ino).toBe(statSync(other).ino);
    expect(statSync(path).nlink).toBe(2);
    expect(readFileSync(other, "utf8")).toContain(NEXT);
  });
});

describe("terminal escape sequences in names", () => {
  it("a connector folder named with ESC ] (retitle the terminal) and BEL is printed escaped", async () => {
    const name = "source-\x1b]0;pwned\x07x";
    const dir = join(mkdtempSync(join(tmpdir(), "esc-")), name);
    cpSync(join(REPO_ROOT, "examples/source-hello"), dir, { recursive: true });
    const cli = await runCli(["build", dir, "--list"]);
    expect(cli.exitCode, cli.stderr).toBe(0);
    expect(cli.stdout).not.toContain("\x1b");
    expect(cli.stdout).not.toContain("\x07");
    expect(cli.stdout).toContain("source-\\x1b]0;pwned\\x07x");
  });
});

describe("a spec that prints without end", () => {
  it("600 MiB of spec output: stopped past 64 MiB with a clear error (exit 1), its container removed, no crash", async () => {
    const { uniqueTag: tag, LOCAL_CATALOG: catalog } = await import("./helpers.ts");
    const dir = await stageExample("source-hello", { tag: tag() });
    writeFileSync(
      join(dir, "build_customization.ts"),
      `import { defineBuildCustomization } from "@airbyte-ci/hooks";\nexport default defineBuildCustomization({\n  postConnectorInstall: (recipe) => recipe.withEntrypoint(["sh", "-c", "yes aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa | head -c 629145600", "${tag()}"]),\n});\n`,
    );
    const cli = await runCli(["build", dir, "--catalog", catalog, "--engine", "docker", "--output", "none"]);
    expect(cli.exitCode).toBe(1);
    expect(cli.stderr).toMatch(/\["spec"\] in sha256:[0-9a-f]+ \(linux\/amd64\) printed more than 64 MiB on stdout: expected a bounded output .*its container airbyte-ci-run-[0-9a-f]+ removed/);
    expect(cli.stderr).not.toMatch(/ERR_STRING_TOO_LONG|RangeError|at .*\.ts:\d+/);
  }, 300_000);
});
