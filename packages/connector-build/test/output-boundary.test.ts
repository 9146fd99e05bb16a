// Issue #16, class 9: what the CLI prints when its reader goes away, when an input is huge, or when
// an argument looks like an option. Everything here goes through the CLI's one output boundary.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LOCAL_CATALOG, PACKAGE_DIR, runCli, spawnCli, stageExample } from "./helpers.ts";

/** Runs the CLI with its stdout closed at once (as `| head -1` closes it): every write meets EPIPE. */
function runWithClosedStdout(args: readonly string[]): Promise<{ stderr: string; exitCode: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args);
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (b) => (stderr += b));
    child.on("error", reject);
    child.on("close", (code) => resolve({ stderr, exitCode: code }));
    child.stdin.end();
  });
}

describe("the CLI's output boundary", () => {
  it("`base list | head -1`: a closed stdout ends the output quietly (no EPIPE, no stack trace)", async () => {
    const cli = await runWithClosedStdout(["base", "list", "--catalog", LOCAL_CATALOG]);
    expect(cli.stderr).not.toMatch(/EPIPE|at .*\.ts:\d+/);
    expect(cli.exitCode).toBe(0);
  }, 60_000);

  it("`analyze … | head -1`: the same, for a command that writes a lot", async () => {
    const cli = await runWithClosedStdout(["analyze", join(PACKAGE_DIR, "test/__fixtures__/connectors-tree")]);
    expect(cli.stderr).not.toMatch(/EPIPE|at .*\.ts:\d+/);
    expect(cli.exitCode).toBe(0);
  }, 60_000);

  it("an 800 kB YAML scalar is not echoed whole in the error (lines are cut, saying how much was left out)", async () => {
    // (A metadata.yaml over 1 MiB is refused by its size before it is parsed: test/bounded-inputs.test.ts.)
    const dir = await stageExample("source-hello");
    const path = join(dir, "metadata.yaml");
    writeFileSync(path, readFileSync(path, "utf8").replace(/dockerImageTag: .*/, `dockerImageTag: ${"9.".repeat(400_000)}`));
    const cli = await runCli(["build", "--engine", "docker", "--output", "none", dir]);
    expect(cli.exitCode).toBe(2);
    expect(cli.stderr).toMatch(/dockerImageTag/);
    expect(cli.stderr).toMatch(/characters omitted/);
    expect(cli.stderr.length).toBeLessThan(20_000);
  }, 60_000);

  it("`compare -- --help img`: an argument that looks like an option is refused, never passed to docker (exit 2)", async () => {
    const cli = await runCli(["compare", "--", "--help", "img"]);
    expect(cli.exitCode).toBe(2);
    expect(cli.stderr).toMatch(/image reference "--help": expected repo:tag, registry\/repo@sha256:… or an image id \(not an option/);
    expect(cli.stdout + cli.stderr).not.toMatch(/Usage:\s+docker/);
  }, 60_000);
});
