import { cpSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildConnectors } from "../build/build-connectors.ts";
import { localCatalog } from "../../test/helpers.ts";
import { setBaseImageInYaml } from "../connector/metadata-edit.ts";
import { FakeEngine } from "../engines/fake/fake-engine.ts";
import { renderFleetHtml } from "./report-html.ts";
import { createFleetProgress, type ProgressStream } from "./progress.ts";

// The fleet build's own events (buildConnectors on the in-memory engine) drive the reporter.
const EXAMPLE = join(import.meta.dirname, "../../../../examples/source-hello");
// The local catalog: its 1.0.0 is published in the loopback registry (resolved before any build).
const catalog = localCatalog();
const baseAddress = catalog.get("1.0.0").publishedAddress as string;

/** A renamed copy of examples/source-hello (folder, package and metadata). */
function connector(name: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), "fleet-progress-")), name);
  cpSync(EXAMPLE, dir, { recursive: true });
  const pkg = name.replace(/-/g, "_");
  renameSync(join(dir, "source_hello"), join(dir, pkg));
  for (const file of ["main.py", "setup.py", "metadata.yaml", `${pkg}/source.py`]) {
    const path = join(dir, file);
    writeFileSync(path, readFileSync(path, "utf8").replaceAll("source_hello", pkg).replaceAll("source-hello", name));
  }
  const metadata = join(dir, "metadata.yaml");
  writeFileSync(metadata, setBaseImageInYaml(readFileSync(metadata, "utf8"), baseAddress));
  return dir;
}

function capture(isTTY: boolean): ProgressStream & { text: () => string } {
  const chunks: string[] = [];
  return { isTTY, columns: 80, write: (t: string) => chunks.push(t), text: () => chunks.join("") };
}

/** A clock advancing 100 ms per reading: elapsed figures are deterministic. */
function clock(): () => number {
  let t = 0;
  return () => (t += 100);
}

async function fleet(stream: ProgressStream) {
  const progress = createFleetProgress(stream, { now: clock(), refreshMs: 0 });
  const engine = new FakeEngine({ onRun: (image, argv) => (argv[0] === "spec" && failing.has(image.image.ref) ? { stdout: "", stderr: "boom", exitCode: 1 } : undefined) });
  const failing = new Set<string>();
  const dirs = [connector("source-a"), connector("source-b")];
  const originalBuild = engine.build.bind(engine);
  engine.build = async (request) => {
    const image = await originalBuild(request);
    if (request.contextDir?.endsWith("source-b")) failing.add(image.ref);
    return image;
  };
  const results = await buildConnectors(dirs, {
    engine,
    catalog,
    platforms: ["linux/amd64"],
    output: { kind: "none" },
    onPhase: (dir, name, phase, detail) => progress.phase(dir, name, phase, detail),
    onDone: (r) => progress.done(r),
  });
  progress.finish(results);
  return results;
}

describe("fleet progress", () => {
  it("not a terminal: plain lines per phase and per connector, no control sequence, then the table", async () => {
    const stream = capture(false);
    const results = await fleet(stream);
    const text = stream.text();
    expect(text).not.toContain("\x1b");
    const lines = text.split("\n");
    for (const name of ["source-a", "source-b"]) {
      const phases = lines.filter((l) => l.startsWith(`[${name}] `)).map((l) => l.replace(/ \(.*\)$/, ""));
      expect(phases.slice(0, 3)).toEqual([`[${name}] prepare`, `[${name}] build linux/amd64`, `[${name}] verify linux/amd64`]);
    }
    // The numbers say what they are: the step's start from the connector's start, the previous step's time.
    expect(lines).toContain("[source-a] prepare (starts at 0.0 s)");
    expect(lines.some((l) => /^\[source-a\] build linux\/amd64 \(starts at \d+\.\d s; prepare took \d+\.\d s\)$/.test(l))).toBe(true);
    expect(lines.some((l) => /^\[source-a\] output none \(starts at \d+\.\d s; verify linux\/amd64 took \d+\.\d s\)$/.test(l))).toBe(true);
    expect(lines.some((l) => /^✓ source-a: built in \d+\.\d s$/.test(l))).toBe(true);
    expect(lines.some((l) => /^✗ source-b: failed in \d+\.\d s \(VERIFICATION_FAILED\)$/.test(l))).toBe(true);
    expect(lines).toContain("2 connectors: 1 built, 0 cached, 1 failed; build time " + `${((results[0]?.durationMs ?? 0) / 1000 + (results[1]?.durationMs ?? 0) / 1000).toFixed(1)} s, wall time ` + lines.find((l) => l.startsWith("2 connectors"))?.split("wall time ")[1]);
    expect(lines.findIndex((l) => l.startsWith("connector "))).toBeGreaterThan(lines.findIndex((l) => l.startsWith("✗ source-b")));
    // Each result carries its time per phase and when it started (where its bar goes on report --html's timeline).
    expect(Object.keys(results[0]?.phasesMs ?? {})).toEqual(["prepare", "build", "verify", "output"]);
    for (const r of results) expect(new Date(r.startedAt as string).toISOString()).toBe(r.startedAt);
    const page = renderFleetHtml(results);
    expect([...page.matchAll(/data-connector="([^"]+)" data-outcome="(\w+)"/g)].map((m) => `${m[1]} ${m[2]}`).sort()).toEqual(["source-a built", "source-b failed"]);
    expect(page).toContain("Bars start when each connector's build started");
  });

  it("terminal: live lines redrawn in place, finished connectors printed once above them", async () => {
    const stream = capture(true);
    await fleet(stream);
    const text = stream.text();
    expect(text).toContain("\x1b[1A\x1b[0J"); // the live block is erased before each redraw
    expect(text).toMatch(/ {2}source-a {2}build linux\/amd64 {2}\d+\.\d s\n/);
    expect(text.match(/✓ source-a: built/g)).toHaveLength(1);
    // After the table nothing is live any more: the output ends with the summary line.
    expect(text.trimEnd().split("\n").at(-1)).toMatch(/^2 connectors: 1 built, 0 cached, 1 failed/);
  });
});
