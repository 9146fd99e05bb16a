// Markdown helpers shared by every report renderer (analysis, image analysis, comparisons).

/** Escapes text for a Markdown table cell: backslashes, pipes, and line breaks (replaced by `lineBreak`). */
export function cell(text: string, lineBreak = " "): string {
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n|\r/g, lineBreak);
}

/** Inline code that survives backticks in the text (and an empty text). */
export function code(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  const pad = text.startsWith("`") || text.endsWith("`") || text === "" ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** A fenced block longer than any backtick run of the content. */
export function fenced(content: string, info: string): string {
  const longest = Math.max(0, ...[...content.matchAll(/`{3,}/g)].map((m) => m[0].length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  const body = content.replace(/^\uFEFF/, "").replace(/\n+$/, "");
  return `${fence}${info}\n${body}\n${fence}`;
}

/** `1 image`, `2 images`. */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}
