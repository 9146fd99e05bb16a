import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ConnectorBuildError } from "../errors.ts";
import { renderFleetHtml } from "../fleet/report-html.ts";
import { renderFleetMarkdown } from "../fleet/report-markdown.ts";
import { readBuildResults, renderFleetTable } from "../fleet/report.ts";
import { writeFileAtomic } from "../shared/fs-atomic.ts";

/** Options of {@link reportCommand}. */
export interface ReportCommandOptions {
  json?: boolean;
  markdown?: boolean;
  /** Also write a self-contained HTML page with the fleet's timeline to this file. */
  html?: string;
}

/** Refuses an `--html` target that cannot be written, before any result is read. */
function checkHtmlTarget(file: string): string {
  const target = resolve(file);
  if (file.trim() === "" || file.startsWith("-")) throw new ConnectorBuildError("USAGE", `report --html ${JSON.stringify(file)}: expected the path of the page to write`);
  if (existsSync(target) && statSync(target).isDirectory()) throw new ConnectorBuildError("USAGE", `report --html ${file}: is a directory: expected the path of a file to write`);
  const parent = dirname(target);
  if (!existsSync(parent) || !statSync(parent).isDirectory()) throw new ConnectorBuildError("USAGE", `report --html ${file}: folder ${parent} does not exist: expected the page's folder to exist`);
  return target;
}

/**
 * `connector-build report <result.json>...`: the merged results as a table (default), JSON
 * (`--json`) or Markdown (`--markdown`) on stdout, and with `--html <file>` a timeline page; exit 1
 * when any connector failed.
 */
export async function reportCommand(files: string[], opts: ReportCommandOptions): Promise<number> {
  if (opts.json && opts.markdown) throw new ConnectorBuildError("USAGE", "report: --json and --markdown both given: expected one output format");
  const html = opts.html !== undefined ? checkHtmlTarget(opts.html) : undefined;
  const results = await readBuildResults(files);
  if (html !== undefined) {
    writeFileAtomic(html, renderFleetHtml(results));
    process.stderr.write(`wrote ${html}\n`);
  }
  process.stdout.write(opts.json ? `${JSON.stringify(results, null, 2)}\n` : opts.markdown ? renderFleetMarkdown(results) : renderFleetTable(results));
  return results.some((r) => r.status !== "success") ? 1 : 0;
}
