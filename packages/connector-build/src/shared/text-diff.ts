/** A unified diff of two texts (whole-line, 3 lines of context), for `--dry-run` output. */
export function unifiedDiff(before: string, after: string, path: string, context = 3): string {
  const a = before.split("\n");
  const b = after.split("\n");
  // LCS table; metadata files are small.
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      (lcs[i] as number[])[j] = a[i] === b[j] ? (lcs[i + 1]?.[j + 1] ?? 0) + 1 : Math.max(lcs[i + 1]?.[j] ?? 0, lcs[i]?.[j + 1] ?? 0);
    }
  }
  type Line = { kind: " " | "-" | "+"; text: string; ai: number; bi: number };
  const lines: Line[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      lines.push({ kind: " ", text: a[i] as string, ai: i++, bi: j++ });
    } else if (j < b.length && (i >= a.length || (lcs[i]?.[j + 1] ?? 0) >= (lcs[i + 1]?.[j] ?? 0))) {
      lines.push({ kind: "+", text: b[j] as string, ai: i, bi: j++ });
    } else {
      lines.push({ kind: "-", text: a[i] as string, ai: i++, bi: j });
    }
  }
  const changed = lines.map((l, k) => (l.kind !== " " ? k : -1)).filter((k) => k >= 0);
  if (changed.length === 0) return "";
  const out = [`--- a/${path}`, `+++ b/${path}`];
  let k = 0;
  while (k < changed.length) {
    const start = Math.max(0, (changed[k] as number) - context);
    let end = Math.min(lines.length - 1, (changed[k] as number) + context);
    while (k + 1 < changed.length && (changed[k + 1] as number) - context <= end + 1) {
      k++;
      end = Math.min(lines.length - 1, (changed[k] as number) + context);
    }
    const hunk = lines.slice(start, end + 1);
    const first = hunk[0] as Line;
    const aLen = hunk.filter((l) => l.kind !== "+").length;
    const bLen = hunk.filter((l) => l.kind !== "-").length;
    out.push(`@@ -${first.ai + 1},${aLen} +${first.bi + 1},${bLen} @@`, ...hunk.map((l) => `${l.kind}${l.text}`));
    k++;
  }
  return `${out.join("\n")}\n`;
}
