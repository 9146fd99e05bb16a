import type { ConnectorBuildResult } from "../build/build-connectors.ts";
import { compare } from "../connector/discover.ts";
import { plural } from "../shared/markdown.ts";
import { PHASES, failuresFirst, fleetWallMs, reasonOf, seconds } from "./report-markdown.ts";
import { outcomeOf, summarize } from "./report.ts";

/**
 * The colours of the page, one per phase and one for the failure mark: solid fills, so that a
 * screenshot shows them as they are (the browser test counts them).
 */
export const REPORT_COLOURS = {
  prepare: "#4e79a7",
  build: "#f28e2b",
  verify: "#59a14f",
  output: "#b07aa1",
  other: "#bab0ac",
  failed: "#d62728",
} as const;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);
}

const pct = (n: number) => `${Math.max(0, Math.min(100, n)).toFixed(3)}%`;

/** Where each connector's bar sits on the time axis (ms from the fleet's start). */
interface Placed {
  readonly result: ConnectorBuildResult;
  readonly startMs: number;
}

function place(results: readonly ConnectorBuildResult[]): { placed: Placed[]; spanMs: number; fromStartTimes: boolean } {
  const fromStartTimes = fleetWallMs(results) !== undefined;
  const origin = fromStartTimes ? Math.min(...results.map((r) => Date.parse(r.startedAt as string))) : 0;
  const placed = results
    .map((result) => ({ result, startMs: fromStartTimes ? Date.parse(result.startedAt as string) - origin : 0 }))
    .sort((a, b) => a.startMs - b.startMs || compare(a.result.connector, b.result.connector) || compare(a.result.dir, b.result.dir));
  const spanMs = Math.max(1, ...placed.map((p) => p.startMs + p.result.durationMs));
  return { placed, spanMs, fromStartTimes };
}

/** Round tick spacing giving about five ticks over `spanMs`. */
function tickStep(spanMs: number): number {
  const raw = spanMs / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw) || 1;
}

function bar(p: Placed, spanMs: number): string {
  const r = p.result;
  const total = Math.max(1, r.durationMs);
  const segments = PHASES.filter((phase) => (r.phasesMs?.[phase] ?? 0) > 0).map((phase) => ({ phase: phase as string, ms: r.phasesMs?.[phase] as number }));
  const accounted = segments.reduce((sum, s) => sum + s.ms, 0);
  if (total - accounted > total * 0.01) segments.push({ phase: "other", ms: total - accounted });
  if (segments.length === 0) segments.push({ phase: "other", ms: total });
  const inner = segments
    .map((s) => `<span class="seg ${s.phase}" style="width:${pct((s.ms / Math.max(total, accounted)) * 100)}" title="${s.phase} ${seconds(s.ms)}"></span>`)
    .join("");
  return `<div class="bar" style="left:${pct((p.startMs / spanMs) * 100)};width:${pct((r.durationMs / spanMs) * 100)}">${inner}</div>`;
}

function row(p: Placed, spanMs: number): string {
  const r = p.result;
  const outcome = outcomeOf(r);
  const failed = outcome === "failed";
  const phases = PHASES.filter((phase) => r.phasesMs?.[phase] !== undefined)
    .map((phase) => `${phase} ${seconds(r.phasesMs?.[phase] as number)}`)
    .join(", ");
  return [
    `<div class="row ${outcome}" data-connector="${escapeHtml(r.connector)}" data-outcome="${outcome}">`,
    `<div class="name" title="${escapeHtml(r.dir)}">${escapeHtml(r.connector)}</div>`,
    `<div class="track">${bar(p, spanMs)}</div>`,
    `<div class="info">${failed ? `<span class="mark" title="failed">✗</span> ` : ""}<span class="time">${seconds(r.durationMs)}</span> <span class="outcome">${outcome}</span>${
      failed ? ` <code class="code">${escapeHtml(r.error?.code ?? "?")}</code>` : ""
    }${phases ? ` <span class="phases">(${phases})</span>` : ""}</div>`,
    `</div>`,
  ].join("");
}

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; color: #222; background: #fff; margin: 24px; }
h1 { font-size: 20px; margin: 0 0 8px; } h2 { font-size: 16px; margin: 24px 0 8px; }
.legend { display: flex; gap: 16px; list-style: none; padding: 0; margin: 8px 0 16px; }
.swatch { display: inline-block; width: 14px; height: 14px; vertical-align: -2px; margin-right: 4px; }
.timeline { width: 1100px; }
.axis, .row { display: grid; grid-template-columns: 200px 600px 300px; align-items: center; }
.axis .ticks { position: relative; height: 18px; border-bottom: 1px solid #999; }
.axis .tick { position: absolute; bottom: 2px; font-size: 11px; color: #555; transform: translateX(-50%); white-space: nowrap; }
.row { height: 28px; }
.name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; padding-right: 8px; }
.track { position: relative; height: 18px; }
.bar { position: absolute; top: 0; height: 18px; min-width: 3px; display: flex; overflow: hidden; }
.seg { display: block; height: 100%; min-width: 1px; }
.info { padding-left: 8px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; font-size: 12px; }
.mark { display: inline-block; background: ${REPORT_COLOURS.failed}; color: #fff; width: 18px; height: 18px; line-height: 18px; text-align: center; font-weight: bold; }
.row.failed .bar { border-right: 4px solid ${REPORT_COLOURS.failed}; }
.row.failed .name { color: ${REPORT_COLOURS.failed}; font-weight: bold; }
${[...PHASES, "other" as const].map((p) => `.${p} { background: ${REPORT_COLOURS[p]}; }`).join("\n")}
table { border-collapse: collapse; } td, th { border: 1px solid #ddd; padding: 2px 8px; text-align: left; }
td.num { text-align: right; }
`;

/**
 * A self-contained HTML page (inline style, no script, no external asset) of a fleet build: the
 * totals, a timeline with one bar per connector (placed by its start time when the results say it,
 * its phases coloured, failures marked ✗ and with a red end), the failures with their reason, and a table per connector.
 */
export function renderFleetHtml(results: readonly ConnectorBuildResult[], options: { title?: string } = {}): string {
  const s = summarize(results);
  const wall = fleetWallMs(results);
  const { placed, spanMs, fromStartTimes } = place(results);
  const step = tickStep(spanMs);
  const ticks: string[] = [];
  for (let t = 0; t <= spanMs; t += step) ticks.push(`<span class="tick" style="left:${pct((t / spanMs) * 100)}">${seconds(t)}</span>`);
  const title = options.title ?? "Connector builds";
  const summary = `${plural(results.length, "connector")}: ${s.built} built, ${s.cached} cached, ${s.failed} failed; build time ${seconds(s.totalMs)} (sum over connectors)${wall !== undefined ? `, wall time ${seconds(wall)}` : ""}`;
  const failures = failuresFirst(results).filter((r) => r.status !== "success");
  const legend = [...PHASES, "other" as const]
    .map((p) => `<li><span class="swatch ${p}"></span>${p === "other" ? "not in a phase" : p}</li>`)
    .concat(`<li><span class="mark">✗</span> failed</li>`)
    .join("");
  const tableRows = failuresFirst(results)
    .map((r) => {
      const outcome = outcomeOf(r);
      const cells = PHASES.map((p) => `<td class="num">${r.phasesMs?.[p] !== undefined ? seconds(r.phasesMs[p] as number) : "–"}</td>`).join("");
      const detail = r.status === "success" ? escapeHtml(r.output?.reference ?? r.output?.path ?? r.output?.kind ?? "") : `${escapeHtml(r.error?.code ?? "?")}: ${escapeHtml(reasonOf(r))}`;
      return `<tr class="${outcome}"><td>${outcome === "failed" ? "✗ " : ""}${escapeHtml(r.connector)}</td><td>${outcome}</td><td>${escapeHtml(r.dockerImageTag ?? "")}</td><td class="num">${seconds(r.durationMs)}</td>${cells}<td>${detail}</td></tr>`;
    })
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="summary">${escapeHtml(summary)}</p>
<ul class="legend">${legend}</ul>
<section class="timeline" aria-label="timeline">
<div class="axis"><div></div><div class="ticks">${ticks.join("")}</div><div></div></div>
${placed.map((p) => row(p, spanMs)).join("\n")}
</section>
<p class="note">${fromStartTimes ? "Bars start when each connector's build started (time from the first start)." : "Some results do not say when their build started: every bar starts at 0."}</p>
${
  failures.length > 0
    ? `<section class="failures"><h2>Failures</h2><table><tr><th>connector</th><th>error</th><th>reason</th></tr>
${failures.map((r) => `<tr><td>✗ ${escapeHtml(r.connector)}</td><td><code>${escapeHtml(r.error?.code ?? "?")}</code></td><td>${escapeHtml(reasonOf(r, 400))}</td></tr>`).join("\n")}
</table></section>`
    : ""
}
<section class="connectors"><h2>Connectors</h2><table><tr><th>connector</th><th>result</th><th>tag</th><th>time</th>${PHASES.map((p) => `<th>${p}</th>`).join("")}<th>output / error</th></tr>
${tableRows}
</table></section>
</body>
</html>
`;
}
