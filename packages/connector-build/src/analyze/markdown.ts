import { cell, code, fenced, plural } from "../shared/markdown.ts";
import type { AnalysisProblem, DockerfileAnalysisReport } from "./analyze.ts";

function problemLine(p: AnalysisProblem): string {
  const where = `${p.path}${p.line !== undefined ? `:${p.line}` : ""}`;
  const field = p.field !== undefined ? `${code(p.field)}: ` : "";
  return `- **${p.severity}** ${code(where)}${p.connector !== undefined ? ` (${p.connector})` : ""}: ${field}${p.message}`;
}

/**
 * Renders an analysis report for a person: a summary, a table of the variants (id, count, base
 * images, example), each variant's example Dockerfile in a fenced block, the connectors without a
 * Dockerfile, then unreadable Dockerfiles and problems when there are any.
 */
export function renderAnalysisMarkdown(report: DockerfileAnalysisReport): string {
  const out: string[] = [];
  const withDockerfile = report.variants.reduce((sum, v) => sum + v.count, 0);
  out.push("# Connector Dockerfile variants", "");
  out.push(
    `Selection: language ${report.criteria.languages.map(code).join(", ") || "(none)"}; ` +
      `support level ${report.criteria.supportLevels.map(code).join(", ") || "(none)"}.`,
    "",
  );
  out.push(`- ${plural(report.scanned, "connector")} found, ${report.selected} selected`);
  out.push(`- ${plural(report.variants.length, "Dockerfile variant")} among ${plural(withDockerfile, "connector")} with a Dockerfile`);
  out.push(`- ${plural(report.withoutDockerfile.length, "connector")} without a Dockerfile (already on the common build)`);
  if (report.unreadable.length > 0) out.push(`- ${plural(report.unreadable.length, "unreadable Dockerfile")}`);
  const errors = report.problems.filter((p) => p.severity === "error").length;
  if (report.problems.length > 0) {
    out.push(`- ${plural(report.problems.length, "problem")} (${plural(errors, "error")}, ${plural(report.problems.length - errors, "warning")})`);
  }
  out.push("");

  if (report.variants.length > 0) {
    out.push("## Variants", "");
    out.push("| Variant | Connectors | Base images | Example |", "| --- | ---: | --- | --- |");
    for (const v of report.variants) {
      const images = v.baseImages.length > 0 ? v.baseImages.map((i) => cell(code(i))).join("<br>") : "(none)";
      const example = `${cell(v.example.connector)}${v.example.image !== undefined ? ` (${cell(code(v.example.image))})` : ""}`;
      out.push(`| [${code(v.id)}](#variant-${v.id}) | ${v.count} | ${images} | ${example} |`);
    }
    out.push("");
    for (const v of report.variants) {
      out.push(`### Variant ${v.id}`, "");
      out.push(`${plural(v.count, "connector")}: ${v.connectors.join(", ")}.`, "");
      out.push(
        `Example: ${v.example.connector}${v.example.image !== undefined ? ` (${code(v.example.image)})` : ""}, ${code(v.example.dockerfile)}:`,
        "",
      );
      out.push(fenced(v.example.content, "dockerfile"), "");
    }
  }

  out.push("## Connectors without a Dockerfile", "");
  if (report.withoutDockerfile.length === 0) out.push("None.", "");
  else out.push(...report.withoutDockerfile.map((c) => `- ${c}`), "");

  if (report.unreadable.length > 0) {
    out.push("## Unreadable Dockerfiles", "");
    out.push(...report.unreadable.map((u) => `- ${u.connector}: ${code(u.path)}: ${u.error}`), "");
  }
  if (report.problems.length > 0) {
    out.push("## Problems", "");
    out.push(...report.problems.map(problemLine), "");
  }
  return `${out.join("\n").replace(/\n+$/, "")}\n`;
}
