import { readBuildResults, renderFleetTable } from "../fleet/report.ts";

/** `connector-build report <result.json>...`: one table, exit 1 when any connector failed. */
export async function reportCommand(files: string[], opts: { json?: boolean }): Promise<number> {
  const results = await readBuildResults(files);
  process.stdout.write(opts.json ? `${JSON.stringify(results, null, 2)}\n` : renderFleetTable(results));
  return results.some((r) => r.status !== "success") ? 1 : 0;
}
