// A registry build's line on stdout names the published index once: <repo>:<tag>@sha256:<digest>.
import { describe, expect, it } from "vitest";
import { LOCAL_CATALOG, runCli, stageExample, uniqueTag } from "./helpers.ts";

describe("build --output registry:", () => {
  it("prints the published address with its digest once", async () => {
    const tag = uniqueTag();
    const dir = await stageExample("source-hello", { tag });
    const cli = await runCli(["build", dir, "--catalog", LOCAL_CATALOG, "--engine", "docker", "--output", "registry:127.0.0.1:5000/harden-digest", "--no-sbom"]);
    expect(cli.exitCode, cli.stderr).toBe(0);
    const escaped = tag.replaceAll(".", "\\.");
    expect(cli.stdout).toMatch(new RegExp(`→ registry: 127\\.0\\.0\\.1:5000/harden-digest/airbyte/source-hello:${escaped}@sha256:[0-9a-f]{64} \\[`));
    expect(cli.stdout.match(/@sha256:/g)).toHaveLength(1);
  }, 300_000);
});
