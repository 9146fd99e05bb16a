/** One file's change, for {@link filePatch}: `before` undefined = a new file, `after` undefined = a deleted one. */
export interface FileChange {
  /** Path as the patch names it: relative, `/` separators (`a/<path>`, `b/<path>`). */
  readonly path: string;
  readonly before: string | undefined;
  readonly after: string | undefined;
}

/** Splits text into lines; `missingNewline` when the last line has no terminating `\n`. */
function splitLines(text: string): { lines: string[]; missingNewline: boolean } {
  if (text === "") return { lines: [], missingNewline: false };
  const missingNewline = !text.endsWith("\n");
  const lines = (missingNewline ? text : text.slice(0, -1)).split("\n");
  return { lines, missingNewline };
}

type Line = { kind: " " | "-" | "+"; text: string; ai: number; bi: number; lastA: boolean; lastB: boolean };

/**
 * A git-style patch of one file (whole-line, 3 lines of context): `diff --git` header, `new file mode` /
 * `deleted file mode` for created and deleted files, `--- /dev/null` / `+++ /dev/null` for them, and
 * `\ No newline at end of file` where a side lacks its final newline. Both `git apply` and GNU
 * `patch -p1` accept it. Empty when nothing changes.
 */
export function filePatch(change: FileChange, context = 3): string {
  const { path, before, after } = change;
  if (before === after) return "";
  const A = splitLines(before ?? "");
  const B = splitLines(after ?? "");
  const a = A.lines;
  const b = B.lines;
  // LCS table; the files migrations touch are small.
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      (lcs[i] as number[])[j] = a[i] === b[j] ? (lcs[i + 1]?.[j + 1] ?? 0) + 1 : Math.max(lcs[i + 1]?.[j] ?? 0, lcs[i]?.[j + 1] ?? 0);
    }
  }
  const lines: Line[] = [];
  let i = 0;
  let j = 0;
  const isLastA = (k: number) => k === a.length - 1;
  const isLastB = (k: number) => k === b.length - 1;
  while (i < a.length || j < b.length) {
    // A common last line whose newline status differs is a change, not context.
    const same = i < a.length && j < b.length && a[i] === b[j] && !((isLastA(i) || isLastB(j)) && (isLastA(i) && A.missingNewline) !== (isLastB(j) && B.missingNewline));
    if (same) {
      lines.push({ kind: " ", text: a[i] as string, ai: i, bi: j, lastA: isLastA(i), lastB: isLastB(j) });
      i++;
      j++;
    } else if (i < a.length && (j >= b.length || (lcs[i + 1]?.[j] ?? 0) >= (lcs[i]?.[j + 1] ?? 0))) {
      lines.push({ kind: "-", text: a[i] as string, ai: i, bi: j, lastA: isLastA(i), lastB: false });
      i++;
    } else {
      lines.push({ kind: "+", text: b[j] as string, ai: i, bi: j, lastA: false, lastB: isLastB(j) });
      j++;
    }
  }
  const out = [`diff --git a/${path} b/${path}`];
  if (before === undefined) out.push("new file mode 100644", "--- /dev/null", `+++ b/${path}`);
  else if (after === undefined) out.push("deleted file mode 100644", `--- a/${path}`, "+++ /dev/null");
  else out.push(`--- a/${path}`, `+++ b/${path}`);
  const changed = lines.map((l, k) => (l.kind !== " " ? k : -1)).filter((k) => k >= 0);
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
    // Unified diff: a range of length 0 names the line before it.
    const aStart = aLen === 0 ? first.ai : first.ai + 1;
    const bStart = bLen === 0 ? first.bi : first.bi + 1;
    out.push(`@@ -${aStart},${aLen} +${bStart},${bLen} @@`);
    for (const l of hunk) {
      out.push(`${l.kind}${l.text}`);
      const noNewline = (l.kind !== "+" && l.lastA && A.missingNewline) || (l.kind !== "-" && l.lastB && B.missingNewline);
      if (noNewline) out.push("\\ No newline at end of file");
    }
    k++;
  }
  return `${out.join("\n")}\n`;
}
