import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../../test/helpers.ts";
import type { ConnectorBuildResult } from "../build/build-connectors.ts";
import { renderFleetMarkdown } from "./report-markdown.ts";
import { outcomeOf, readBuildResults, renderFleetTable } from "./report.ts";

const dir = mkdtempSync(join(tmpdir(), "fleet-report-"));

function result(connector: string, status: "success" | "failed", cached: boolean[] = [false], ms = 1500): ConnectorBuildResult {
  return {
    connector,
    dir: `/repo/${connector}`,
    status,
    dockerImageTag: "0.1.0",
    durationMs: ms,
    platforms: [{ platform: "linux/amd64", imageId: "sha256:1", verification: { spec: true, detail: "ok" }, cache: { steps: cached.map((c, operation) => ({ operation, op: "withExec", cached: c })) } }],
    ...(status === "success" ? { output: { kind: "docker" as const, reference: `airbyte/${connector}:0.1.0` } } : { error: { code: "BUILD_FAILED", message: "pip install failed\nmore detail" } }),
  };
}

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

describe("fleet report", () => {
  it("classifies built, cached and failed", () => {
    expect(outcomeOf(result("a", "success", [true, false]))).toBe("built");
    expect(outcomeOf(result("a", "success", [true, true]))).toBe("cached");
    expect(outcomeOf(result("a", "failed", [true]))).toBe("failed");
  });

  it("merges shards sorted by connector and renders one table with totals", async () => {
    const one = file("shard-1.json", [result("source-b", "success", [true, true], 200), result("source-c", "failed")]);
    const two = file("shard-2.json", [result("source-a", "success", [false], 3000)]);
    const merged = await readBuildResults([one, two]);
    expect(merged.map((r) => r.connector)).toEqual(["source-a", "source-b", "source-c"]);
    const table = renderFleetTable(merged).split("\n");
    expect(table[0]).toMatch(/^connector\s+result\s+tag\s+time\s+output \/ error$/);
    expect(table[2]).toMatch(/^source-a\s+built\s+0\.1\.0\s+3\.0 s\s+airbyte\/source-a:0\.1\.0$/);
    expect(table[3]).toMatch(/^source-b\s+cached/);
    expect(table[4]).toMatch(/^source-c\s+failed.*BUILD_FAILED: pip install failed$/);
    expect(table[5]).toBe("3 connectors: 1 built, 1 cached, 1 failed; build time 4.7 s");
  });

  it("CLI: exit 1 when a shard failed, 0 when all succeeded, 2 for a bad file or overlapping shards", async () => {
    const ok = file("ok.json", [result("source-a", "success")]);
    const bad = file("bad.json", [result("source-z", "failed")]);
    const passed = await runCli(["report", ok]);
    expect(passed.exitCode).toBe(0);
    expect(passed.stdout).toContain("1 connector: 1 built, 0 cached, 0 failed");
    const failed = await runCli(["report", ok, bad, "--json"]);
    expect(failed.exitCode).toBe(1);
    expect((JSON.parse(failed.stdout) as ConnectorBuildResult[]).map((r) => r.connector)).toEqual(["source-a", "source-z"]);
    const notJson = await runCli(["report", file("broken.json", "{")]);
    expect(notJson.exitCode).toBe(2);
    expect(notJson.stderr).toMatch(/broken\.json: cannot be read as JSON/);
    const wrongShape = await runCli(["report", file("shape.json", [{ connector: "x" }])]);
    expect(wrongShape.stderr).toMatch(/shape\.json: 0\.dir: .*expected the JSON array connector-build build --json prints/);
    const twice = await runCli(["report", ok, ok]);
    expect(twice.exitCode).toBe(2);
    expect(twice.stderr).toMatch(/source-a \(\/repo\/source-a\) is in both .*ok\.json and .*ok\.json/);
  });

  it("--markdown: totals, failures first with their reason (escaped), a row per connector with its phase times, time per phase", async () => {
    const timed = (r: ConnectorBuildResult, startS: number, phasesMs: ConnectorBuildResult["phasesMs"]) => ({ ...r, startedAt: new Date(Date.UTC(2026, 11, 1, 10, 0, startS)).toISOString(), phasesMs });
    const shard = file("md.json", [
      timed(result("source-b", "success", [false], 3000), 0, { prepare: 500, build: 2000, verify: 400, output: 100 }),
      timed({ ...result("source-a", "failed"), error: { code: "BUILD_FAILED", message: "pip | <cdk> missing\nsecond line" } }, 1, { prepare: 700, build: 800 }),
    ]);
    const run = await runCli(["report", shard, "--markdown"]);
    expect(run.exitCode).toBe(1);
    const md = run.stdout;
    expect(md).toContain("## Connector builds: 1 failed");
    expect(md).toContain("2 connectors: **1 built**, **0 cached**, **1 failed**; build time 4.5 s (sum over connectors), wall time 3.0 s.");
    // The failure's reason: its first line, the pipe escaped, the angle brackets as entities.
    expect(md).toContain("### Failures\n\n| connector | error | reason |\n| --- | --- | --- |\n| ✗ source-a | `BUILD_FAILED` | pip \\| &lt;cdk&gt; missing |");
    expect(md).not.toContain("second line");
    const rows = md.split("\n").filter((l) => /^\| (✗ )?source-/.test(l) && l.includes("0.1.0"));
    expect(rows).toEqual([
      "| ✗ source-a | failed | 0.1.0 | 1.5 s | 0.7 s | 0.8 s | – | – |  |",
      "| source-b | built | 0.1.0 | 3.0 s | 0.5 s | 2.0 s | 0.4 s | 0.1 s | `airbyte/source-b:0.1.0` |",
    ]);
    expect(md).toContain("| build | 2.8 s | 1.4 s | source-b (2.0 s) |");
    expect(md).toContain("| verify | 0.4 s | 0.4 s | source-b (0.4 s) |");
    expect(renderFleetMarkdown([])).toContain("0 connectors");
    const both = await runCli(["report", shard, "--markdown", "--json"]);
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toContain("--json and --markdown both given");
  });
});
