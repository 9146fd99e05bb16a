import type { BuildPhase, ConnectorBuildResult } from "../build/build-connectors.ts";
import { compare } from "../connector/discover.ts";
import { cell, code, plural } from "../shared/markdown.ts";
import { outcomeOf, summarize } from "./report.ts";

/** The phases of a connector's build, in the order they run. */
export const PHASES: readonly BuildPhase[] = ["prepare", "build", "verify", "output"];

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** A table cell of free text: Markdown escapes, and `<`/`>` as entities (renderers read them as HTML tags). */
function textCell(text: string): string {
  return cell(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** First line of an error message, shortened for a table cell. */
export function reasonOf(result: Pick<ConnectorBuildResult, "error">, max = 160): string {
  const line = (result.error?.message ?? "").split("\n")[0] ?? "";
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** Failures first (by connector), then the others (by connector). */
export function failuresFirst(results: readonly ConnectorBuildResult[]): ConnectorBuildResult[] {
  const failed = (r: ConnectorBuildResult) => (r.status === "success" ? 1 : 0);
  return [...results].sort((a, b) => failed(a) - failed(b) || compare(a.connector, b.connector) || compare(a.dir, b.dir));
}

/**
 * Wall time of the fleet, from the first connector's start to the last one's end, when every result
 * says when it started (`startedAt`); undefined otherwise.
 */
export function fleetWallMs(results: readonly Pick<ConnectorBuildResult, "startedAt" | "durationMs">[]): number | undefined {
  if (results.length === 0 || results.some((r) => r.startedAt === undefined || Number.isNaN(Date.parse(r.startedAt)))) return undefined;
  const starts = results.map((r) => Date.parse(r.startedAt as string));
  const ends = results.map((r, i) => (starts[i] as number) + r.durationMs);
  return Math.max(...ends) - Math.min(...starts);
}

/**
 * A Markdown summary of a fleet build, for a CI job summary or a pull-request comment: the totals,
 * the failures first with their reason, one row per connector with its time per phase, and the time
 * each phase took over the fleet.
 */
export function renderFleetMarkdown(results: readonly ConnectorBuildResult[]): string {
  const s = summarize(results);
  const wall = fleetWallMs(results);
  const out: string[] = [];
  out.push(`## Connector builds: ${s.failed > 0 ? `${s.failed} failed` : "all succeeded"}`, "");
  out.push(
    `${plural(results.length, "connector")}: **${s.built} built**, **${s.cached} cached**, **${s.failed} failed**; build time ${seconds(s.totalMs)} (sum over connectors)${wall !== undefined ? `, wall time ${seconds(wall)}` : ""}.`,
    "",
  );
  const failures = results.filter((r) => r.status !== "success");
  if (failures.length > 0) {
    out.push("### Failures", "", "| connector | error | reason |", "| --- | --- | --- |");
    for (const r of failuresFirst(failures)) out.push(`| ✗ ${textCell(r.connector)} | ${code(r.error?.code ?? "?")} | ${textCell(reasonOf(r)) || "(no message)"} |`);
    out.push("");
  }
  out.push("### Connectors", "", `| connector | result | tag | time | ${PHASES.join(" | ")} | image / file |`, `| --- | --- | --- | ---: | ${PHASES.map(() => "---:").join(" | ")} | --- |`);
  for (const r of failuresFirst(results)) {
    const outcome = outcomeOf(r);
    const phases = PHASES.map((p) => (r.phasesMs?.[p] !== undefined ? seconds(r.phasesMs[p] as number) : "–"));
    const output = r.status === "success" ? (r.output?.reference ?? r.output?.path ?? r.output?.kind ?? "") : "";
    out.push(
      `| ${outcome === "failed" ? "✗ " : ""}${textCell(r.connector)} | ${outcome} | ${textCell(r.dockerImageTag ?? "")} | ${seconds(r.durationMs)} | ${phases.join(" | ")} | ${output ? code(output) : ""} |`,
    );
  }
  out.push("");
  const timed = results.filter((r) => r.phasesMs !== undefined);
  if (timed.length > 0) {
    out.push("### Time per phase", "", "| phase | total | mean | slowest |", "| --- | ---: | ---: | --- |");
    for (const phase of PHASES) {
      const withPhase = timed.filter((r) => r.phasesMs?.[phase] !== undefined);
      if (withPhase.length === 0) continue;
      const total = withPhase.reduce((sum, r) => sum + (r.phasesMs?.[phase] ?? 0), 0);
      const slowest = withPhase.reduce((a, b) => ((b.phasesMs?.[phase] ?? 0) > (a.phasesMs?.[phase] ?? 0) ? b : a));
      out.push(`| ${phase} | ${seconds(total)} | ${seconds(total / withPhase.length)} | ${textCell(slowest.connector)} (${seconds(slowest.phasesMs?.[phase] ?? 0)}) |`);
    }
    out.push("");
  }
  return `${out.join("\n")}`;
}
