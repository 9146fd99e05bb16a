import { readFile } from "node:fs/promises";
import { z } from "zod";
import type { ConnectorBuildResult } from "../build/build-connectors.ts";
import { compare } from "../connector/discover.ts";
import { ConnectorBuildError } from "../errors.ts";

/** How one connector's build ended, for a fleet table: cached when every build step was reused. */
export type FleetOutcome = "built" | "cached" | "failed";

/** The counts under a fleet table. */
export interface FleetSummary {
  built: number;
  cached: number;
  failed: number;
  /** Sum of the connectors' build times (their wall time when built one at a time). */
  totalMs: number;
}

/** Built, cached (every step of every platform reused) or failed. */
export function outcomeOf(result: Pick<ConnectorBuildResult, "status" | "platforms">): FleetOutcome {
  if (result.status !== "success") return "failed";
  const steps = result.platforms.flatMap((p) => p.cache?.steps ?? []);
  return steps.length > 0 && steps.every((s) => s.cached) ? "cached" : "built";
}

export function summarize(results: readonly Pick<ConnectorBuildResult, "status" | "platforms" | "durationMs">[]): FleetSummary {
  const summary: FleetSummary = { built: 0, cached: 0, failed: 0, totalMs: 0 };
  for (const r of results) {
    summary[outcomeOf(r)]++;
    summary.totalMs += r.durationMs;
  }
  return summary;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function firstLine(text: string | undefined, max = 80): string {
  const line = (text ?? "").split("\n")[0] ?? "";
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** A plain-text table of connector results, then one summary line. */
export function renderFleetTable(results: readonly ConnectorBuildResult[], options: { wallMs?: number } = {}): string {
  const rows = [
    ["connector", "result", "tag", "time", "output / error"],
    ...results.map((r) => [
      r.connector,
      outcomeOf(r),
      r.dockerImageTag ?? "",
      seconds(r.durationMs),
      r.status === "success" ? (r.output?.reference ?? r.output?.path ?? r.output?.kind ?? "") : `${r.error?.code ?? "?"}: ${firstLine(r.error?.message)}`,
    ]),
  ];
  // A loop, not Math.max(...rows): spreading 200,000 rows as arguments overflows the stack.
  const widths = (rows[0] as string[]).map((_, i) => rows.reduce((max, row) => Math.max(max, (row[i] ?? "").length), 0));
  const lines = rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ").trimEnd());
  lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "));
  const s = summarize(results);
  lines.push(
    `${results.length} connector${results.length === 1 ? "" : "s"}: ${s.built} built, ${s.cached} cached, ${s.failed} failed; build time ${seconds(s.totalMs)}${options.wallMs !== undefined ? `, wall time ${seconds(options.wallMs)}` : ""}`,
  );
  return `${lines.join("\n")}\n`;
}

const resultSchema = z.looseObject({
  connector: z.string(),
  dir: z.string(),
  status: z.enum(["success", "failed"]),
  durationMs: z.number(),
  startedAt: z.string().optional(),
  phasesMs: z.record(z.string(), z.number()).optional(),
  platforms: z.array(z.looseObject({ platform: z.string() })),
});

/**
 * Reads `build --json` outputs (one JSON array of results per file, e.g. one per CI shard) and
 * merges them, sorted by connector.
 *
 * @throws ConnectorBuildError `USAGE` when a file is unreadable, not such an array, or a connector
 *   folder appears in two files (overlapping shards).
 */
export async function readBuildResults(files: readonly string[]): Promise<ConnectorBuildResult[]> {
  if (files.length === 0) throw new ConnectorBuildError("USAGE", "report: no result file given: expected connector-build report <result.json>...");
  const merged: ConnectorBuildResult[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    let data: unknown;
    try {
      data = JSON.parse(await readFile(file, "utf8"));
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new ConnectorBuildError("USAGE", `report: ${file}: cannot be read as JSON (${reason}): expected the stdout of connector-build build --json`);
    }
    const parsed = z.array(resultSchema).safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ConnectorBuildError(
        "USAGE",
        `report: ${file}: ${issue ? `${issue.path.join(".") || "(top)"}: ${issue.message}` : "invalid"}: expected the JSON array connector-build build --json prints`,
      );
    }
    for (const result of parsed.data as unknown as ConnectorBuildResult[]) {
      const other = seen.get(result.dir);
      if (other !== undefined) throw new ConnectorBuildError("USAGE", `report: ${result.connector} (${result.dir}) is in both ${other} and ${file}: expected each connector in one shard`);
      seen.set(result.dir, file);
      merged.push(result);
    }
  }
  return merged.sort((a, b) => compare(a.connector, b.connector) || compare(a.dir, b.dir));
}
