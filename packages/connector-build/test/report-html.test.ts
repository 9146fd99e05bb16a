// `connector-build report --html`: the page rendered by a real browser, Debian's headless Chromium
// (scripts/env/setup.sh installs it for the test command). The DOM Chromium builds is checked for its
// text (connector names, failure marks, error codes), and a screenshot for the bars: one band of
// phase-coloured pixels per connector on the timeline, and a red failure mark beside each failed one.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import type { ConnectorBuildResult } from "../src/build/build-connectors.ts";
import { REPORT_COLOURS } from "../src/fleet/report-html.ts";
import { runCli } from "./helpers.ts";
import { readPng, type Png } from "./helpers/png.ts";

const CHROMIUM = "/usr/bin/chromium";
const work = mkdtempSync(join(tmpdir(), "report-html-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const T0 = Date.parse("2026-12-01T10:00:00.000Z");
function result(connector: string, startS: number, phases: [number, number, number, number], error?: { code: string; message: string }): ConnectorBuildResult {
  const [prepare, build, verify, output] = phases.map((s) => s * 1000) as [number, number, number, number];
  const phasesMs = error ? { prepare, build } : { prepare, build, verify, output };
  return {
    connector,
    dir: `/repo/airbyte-integrations/connectors/${connector}`,
    status: error ? "failed" : "success",
    dockerImageTag: "0.1.0",
    startedAt: new Date(T0 + startS * 1000).toISOString(),
    durationMs: Object.values(phasesMs).reduce((a, b) => a + b, 0),
    phasesMs,
    platforms: [{ platform: "linux/amd64", imageId: "sha256:1", verification: { spec: !error, detail: "" } }],
    ...(error ? { error } : { output: { kind: "docker" as const, reference: `airbyte/${connector}:0.1.0` } }),
  };
}

// Two shards, as a CI matrix writes them; two failures, one with markup in its message.
const SHARD_1 = [
  result("source-alpha", 0, [2, 20, 3, 1]),
  result("source-bravo", 0, [2, 8, 0, 0], { code: "BUILD_FAILED", message: "pip install exited with 1: No matching distribution for <airbyte-cdk>=99>\nmore lines" }),
  result("source-charlie", 10, [1, 12, 2, 1]),
];
const SHARD_2 = [result("destination-delta", 3, [2, 15, 2, 2]), result("source-echo", 18, [1, 4, 0, 0], { code: "VERIFICATION_FAILED", message: "spec printed no SPEC message" })];

type Rgb = [number, number, number];
const rgb = (hex: string): Rgb => [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as Rgb;
const near = (a: Rgb, b: Rgb) => a.every((v, i) => Math.abs(v - (b[i] as number)) <= 3);
const PHASE_COLOURS = (["prepare", "build", "verify", "output", "other"] as const).map((p) => rgb(REPORT_COLOURS[p]));
const FAILED = rgb(REPORT_COLOURS.failed);

/** Runs of consecutive pixel rows `test` holds for. */
function bands(png: Png, fromY: number, test: (y: number) => boolean): Array<{ top: number; bottom: number }> {
  const found: Array<{ top: number; bottom: number }> = [];
  for (let y = fromY; y < png.height; y++) {
    if (!test(y)) continue;
    const last = found.at(-1);
    if (last && last.bottom === y - 1) last.bottom = y;
    else found.push({ top: y, bottom: y });
  }
  return found;
}

async function chromium(args: string[]): Promise<string> {
  const profile = mkdtempSync(join(work, "profile-"));
  const { stdout } = await promisify(execFile)(
    CHROMIUM,
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--force-device-scale-factor=1",
      "--hide-scrollbars",
      `--user-data-dir=${profile}`,
      ...args,
    ],
    { maxBuffer: 16 * 1024 * 1024, timeout: 120_000 },
  );
  return stdout;
}

describe("report --html in headless Chromium", () => {
  it("Chromium is installed (scripts/env/setup.sh installs it for the test command)", () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} missing: apt-get install chromium (scripts/test.sh has the setup do it)`).toBe(true);
  });

  it("the page's DOM names every connector, marks the failures, and loads nothing from elsewhere", { timeout: 180_000 }, async () => {
    const one = join(work, "shard-1.json");
    const two = join(work, "shard-2.json");
    writeFileSync(one, JSON.stringify(SHARD_1));
    writeFileSync(two, JSON.stringify(SHARD_2));
    const page = join(work, "fleet.html");
    const run = await runCli(["report", one, two, "--html", page]);
    expect(run.exitCode).toBe(1); // failures in the fleet
    expect(run.stderr).toContain(`wrote ${page}`);
    expect(run.stdout).toContain("5 connectors: 3 built, 0 cached, 2 failed");
    const html = readFileSync(page, "utf8");
    // Self-contained: no script, stylesheet link, image, font or url() to fetch.
    expect(html).not.toMatch(/<script|<link|<img|\bsrc=|url\(|@import/i);

    const dom = await chromium(["--dump-dom", pathToFileURL(page).href]);
    const rows = [...dom.matchAll(/<div class="row (\w+)" data-connector="([^"]+)" data-outcome="(\w+)">/g)].map((m) => ({ connector: m[2], outcome: m[3] }));
    // One row per connector, in start order (ties by name).
    expect(rows).toEqual([
      { connector: "source-alpha", outcome: "built" },
      { connector: "source-bravo", outcome: "failed" },
      { connector: "destination-delta", outcome: "built" },
      { connector: "source-charlie", outcome: "built" },
      { connector: "source-echo", outcome: "failed" },
    ]);
    expect(dom.match(/<span class="mark" title="failed">✗<\/span>/g)).toHaveLength(2);
    expect(dom).toContain("BUILD_FAILED");
    expect(dom).toContain("VERIFICATION_FAILED");
    // The message is text, not markup.
    expect(dom).toContain("No matching distribution for &lt;airbyte-cdk&gt;=99&gt;");
    expect(dom).toContain("5 connectors: 3 built, 0 cached, 2 failed");
    expect(dom).toContain("wall time 26.0 s");
  });

  it("the screenshot shows one coloured bar per connector, all four phases on a successful one, and the failure marks on the failed rows", { timeout: 180_000 }, async () => {
    const page = join(work, "fleet.html");
    if (!existsSync(page)) writeFileSync(page, ""); // the previous test failed: this one fails below too
    const shot = join(work, "fleet.png");
    await chromium(["--window-size=1200,900", `--screenshot=${shot}`, pathToFileURL(page).href]);
    const png = readPng(shot);
    expect(png.width).toBe(1200);
    // Columns of the timeline (body margin 24 px; name 200 px, track 600 px, info 300 px).
    const track = { from: 224, to: 824 };
    const info = { from: 824, to: 1124 };
    // The axis: the track's full-width grey line; the bars are below it (the legend, above, is not counted).
    const axisY = bands(png, 0, (y) => {
      let grey = 0;
      for (let x = track.from; x < track.to; x++) if (near(png.pixel(x, y), [0x99, 0x99, 0x99])) grey++;
      return grey > (track.to - track.from) * 0.9;
    })[0]?.top;
    expect(axisY, "the timeline's axis line").toBeDefined();
    const inTrack = (y: number, colours: Rgb[]) => {
      for (let x = track.from; x < track.to; x++) if (colours.some((c) => near(png.pixel(x, y), c))) return true;
      return false;
    };
    const bars = bands(png, (axisY as number) + 1, (y) => inTrack(y, PHASE_COLOURS));
    expect(bars).toHaveLength(5);
    for (const b of bars) expect(b.bottom - b.top + 1).toBe(18); // the bar height: bands are whole bars
    // source-alpha (first row): prepare, build, verify and output all visible.
    const first = bars[0] as { top: number };
    const mid = first.top + 9;
    const seen = PHASE_COLOURS.slice(0, 4).map((c) => {
      for (let x = track.from; x < track.to; x++) if (near(png.pixel(x, mid), c)) return true;
      return false;
    });
    expect(seen).toEqual([true, true, true, true]);
    // The red marks, in the info column, on the rows of source-bravo (2nd) and source-echo (5th).
    const marked = bars.map((b) => {
      const y = b.top + 2;
      for (let x = info.from; x < info.to; x++) if (near(png.pixel(x, y), FAILED)) return true;
      return false;
    });
    expect(marked).toEqual([false, true, false, false, true]);
    // Bars start where their connector started: source-echo (started at 18 s of 26 s) starts right of source-alpha (0 s).
    const leftmost = (b: { top: number }) => {
      for (let x = track.from; x < track.to; x++) if (PHASE_COLOURS.some((c) => near(png.pixel(x, b.top + 9), c))) return x;
      return -1;
    };
    expect(leftmost(bars[0] as { top: number })).toBe(track.from);
    expect(leftmost(bars[4] as { top: number })).toBeGreaterThan(track.from + 0.6 * (track.to - track.from));
  });

  it("--html refuses a folder that does not exist, before reading anything, and writes nothing", async () => {
    const missing = join(work, "no-such-folder", "fleet.html");
    const run = await runCli(["report", join(work, "shard-1.json"), "--html", missing]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`report --html ${missing}: folder ${join(work, "no-such-folder")} does not exist`);
    expect(existsSync(missing)).toBe(false);
  });
});
