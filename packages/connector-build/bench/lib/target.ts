/** A benchmark target: one of the issues' goals, evaluated on a run's figures. The one target shape of the benchmark. */
export interface Target {
  readonly id: string;
  readonly description: string;
  readonly status: "PASS" | "MISS" | "SKIP";
  readonly figures: string;
}

/** A plain-text table: the first column left-aligned, the others right-aligned, a rule under the header row. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows
    .map((r, ri) => {
      const line = r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
      return ri === 0 ? `${line}\n${widths.map((w) => "-".repeat(w)).join("  ")}` : line;
    })
    .join("\n");
}
