// Experiment `analyze`: analyzeRepository on a generated tree of connectors, in fresh child processes.
import { join } from "node:path";
import { writeAnalyzeTree, type TreeExpectation } from "../lib/analyze-tree.ts";
import type { BenchConfig } from "../lib/config.ts";
import { BENCH_DIR, PACKAGE_DIR, log, type BenchContext, type Experiment } from "../lib/context.ts";
import { BenchError } from "../lib/docker.ts";
import { run, tail } from "../lib/proc.ts";
import { megabytes, seconds, spread, summarize, type Summary } from "../lib/stats.ts";
import { table, type Target } from "../lib/target.ts";

// analyzeRepository on a generated tree, in fresh child processes.

interface AnalyzeChildOutput {
  ms: number;
  warmMs: number;
  maxRssKiB: number;
  maxRssBeforeKiB: number;
  rssBeforeBytes: number;
  sampledPeakRssBytes: number;
  scanned: number;
  selected: number;
  variants: Array<{ id: string; count: number; example: string; baseImages: string[] }>;
  withoutDockerfile: number;
  unreadable: number;
  problems: number;
  firstProblems: unknown[];
}

interface AnalyzeResult {
  connectors: number;
  files: number;
  generateMs: number;
  expected: TreeExpectation;
  check: { ok: boolean; detail: string };
  repetitions: AnalyzeChildOutput[];
  ms: Summary;
  warmMs: Summary;
  peakRssBytes: Summary;
  peakRssIncreaseBytes: Summary;
}

function checkAnalysis(out: AnalyzeChildOutput, expected: TreeExpectation): { ok: boolean; detail: string } {
  const wantCounts = Object.values(expected.byTemplate).sort((a, b) => a - b);
  const gotCounts = out.variants.map((v) => v.count).sort((a, b) => a - b);
  const problems: string[] = [];
  if (out.scanned !== expected.connectors) problems.push(`scanned ${out.scanned}, expected ${expected.connectors}`);
  if (out.selected !== expected.selected) problems.push(`selected ${out.selected}, expected ${expected.selected}`);
  if (JSON.stringify(gotCounts) !== JSON.stringify(wantCounts)) problems.push(`variant sizes ${JSON.stringify(gotCounts)}, expected ${JSON.stringify(wantCounts)}`);
  if (out.withoutDockerfile !== expected.withoutDockerfile) problems.push(`${out.withoutDockerfile} without Dockerfile, expected ${expected.withoutDockerfile}`);
  if (out.unreadable !== 0) problems.push(`${out.unreadable} unreadable Dockerfiles, expected 0`);
  return problems.length === 0
    ? { ok: true, detail: `${out.scanned} scanned, ${out.selected} selected, ${out.variants.length} variants, ${out.withoutDockerfile} without Dockerfile: as generated` }
    : { ok: false, detail: problems.join("; ") };
}

async function runAnalyze(config: BenchConfig, work: string): Promise<AnalyzeResult> {
  const root = join(work, "analyze-tree");
  const genStarted = performance.now();
  const expected = writeAnalyzeTree(root, config.analyzeConnectors);
  const generateMs = performance.now() - genStarted;
  log(`analyze: generated ${expected.connectors} connectors (${expected.files} files) in ${seconds(generateMs)}`);
  const repetitions: AnalyzeChildOutput[] = [];
  const child = join(BENCH_DIR, "analyze-child.ts");
  for (let rep = 0; rep < config.repetitions; rep++) {
    const result = await run(process.execPath, ["--conditions=@airbyte-ci/source", "--import", "tsx", child, root], { cwd: PACKAGE_DIR });
    const line = result.stdout.trim().split("\n").at(-1) ?? "";
    if (result.exitCode !== 0 || !line.startsWith("{")) {
      throw new BenchError(`analyze child process exited ${result.exitCode}:\n${tail(`${result.stdout}\n${result.stderr}`, 15)}`);
    }
    const out = JSON.parse(line) as AnalyzeChildOutput;
    repetitions.push(out);
    log(`  analyze (repetition ${rep + 1}/${config.repetitions}): ${seconds(out.ms)} (second call ${seconds(out.warmMs)}), peak RSS ${megabytes(out.maxRssKiB * 1024)}`);
  }
  const first = repetitions[0];
  const check = first ? checkAnalysis(first, expected) : { ok: false, detail: "no repetition" };
  if (!check.ok) log(`analyze: WARNING the report differs from what was generated: ${check.detail}`);
  return {
    connectors: expected.connectors,
    files: expected.files,
    generateMs,
    expected,
    check,
    repetitions,
    ms: summarize(repetitions.map((r) => r.ms)),
    warmMs: summarize(repetitions.map((r) => r.warmMs)),
    peakRssBytes: summarize(repetitions.map((r) => r.maxRssKiB * 1024)),
    peakRssIncreaseBytes: summarize(repetitions.map((r) => (r.maxRssKiB - r.maxRssBeforeKiB) * 1024)),
  };
}


function report(a: AnalyzeResult, config: BenchConfig): string[] {
  return [
    "",
    `analyzeRepository on ${a.connectors.toLocaleString("en")} generated connectors (${a.files.toLocaleString("en")} files), fresh process per repetition, median of ${config.repetitions}`,
    table([
      ["measure", "value"],
      ["time (first call)", seconds(a.ms.median)],
      ["time (second call, same process)", seconds(a.warmMs.median)],
      ["peak RSS of the process (getrusage)", megabytes(a.peakRssBytes.median)],
      ["peak RSS increase during the call", megabytes(a.peakRssIncreaseBytes.median)],
      ["report check", a.check.ok ? "ok" : `MISMATCH: ${a.check.detail}`],
    ]),
  ];
}

function targets(analyze: AnalyzeResult): Target[] {
  return [
    {
      id: "analyze-2000",
      description: `analyze of ${analyze.connectors.toLocaleString("en")} connectors < 2 s`,
      status: analyze.ms.median < 2000 && analyze.connectors >= 2000 && analyze.check.ok ? "PASS" : "MISS",
      figures: `${seconds(analyze.ms.median)}${spread(analyze.ms)} in a fresh process, peak RSS ${megabytes(analyze.peakRssBytes.median)}${analyze.check.ok ? "" : `; report check failed: ${analyze.check.detail}`}`,
    },
  ];
}

export const analyze: Experiment<AnalyzeResult> = {
  id: "analyze",
  description: "analyzeRepository on a generated tree of connectors",
  run: (ctx: BenchContext) => runAnalyze(ctx.config, ctx.work),
  report,
  targets,
};
