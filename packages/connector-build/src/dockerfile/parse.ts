/** One Dockerfile instruction, continuation lines joined. */
export interface DockerfileInstruction {
  /** Upper-cased keyword: FROM, RUN, ENV… */
  readonly keyword: string;
  /** Everything after the keyword, each physical line trimmed, continuations joined with a space. */
  readonly args: string;
  /** Everything after the keyword, continuations concatenated as Docker does (no separator added). */
  readonly raw: string;
  /** 1-based line of the keyword. */
  readonly line: number;
  /** The original text. */
  readonly text: string;
}

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9_-]*)\s*=\s*(.*?)\s*$/;

/**
 * Splits a Dockerfile into instructions as Docker's parser does: a leading BOM dropped, parser
 * directives read (`# escape=` switches the continuation character to a backtick), comment lines
 * dropped (also inside continuations), blank lines inside a continuation skipped, continuations
 * joined. The one Dockerfile parser of the toolkit: `analyze` and `migrate` both read through it.
 */
export function parseDockerfileInstructions(content: string): DockerfileInstruction[] {
  const physical = content.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  let escape = "\\";
  let index = 0;
  // Parser directives: leading `# key=value` comment lines, before anything else.
  for (; index < physical.length; index++) {
    const match = DIRECTIVE.exec(physical[index] ?? "");
    if (!match) break;
    if ((match[1] ?? "").toLowerCase() === "escape" && (match[2] === "`" || match[2] === "\\")) escape = match[2];
  }
  const out: DockerfileInstruction[] = [];
  let pieces: string[] = [];
  let startLine = 0;
  const flush = () => {
    const raw = pieces.join("");
    const text = pieces.map((p) => p.trim()).filter(Boolean).join(" ");
    pieces = [];
    const m = /^(\S+)\s*(.*)$/s.exec(text);
    const r = /^\s*\S+\s*(.*)$/s.exec(raw);
    if (m) out.push({ keyword: (m[1] as string).toUpperCase(), args: (m[2] as string).trim(), raw: ((r?.[1] as string | undefined) ?? "").trim(), line: startLine, text });
  };
  for (; index < physical.length; index++) {
    const line = physical[index] ?? "";
    const trimmedStart = line.replace(/^\s+/, "");
    // Comment lines are removed before continuations are joined; blank lines inside a
    // continuation are skipped too.
    if (trimmedStart.startsWith("#")) continue;
    if (trimmedStart === "") continue;
    if (pieces.length === 0) startLine = index + 1;
    const trimmedEnd = line.replace(/\s+$/, "");
    const continues = trimmedEnd.endsWith(escape);
    pieces.push(continues ? trimmedEnd.slice(0, -escape.length) : line);
    if (!continues) flush();
  }
  if (pieces.length > 0) flush();
  return out;
}

/** Parses `ENV` arguments: `KEY=value KEY2="v 2"` or the legacy `KEY value` form. */
export function parseEnvArgs(args: string): Array<[string, string]> {
  const legacy = /^([A-Za-z_][A-Za-z0-9_]*)\s+(?!\S*=)(.*)$/.exec(args);
  if (legacy && !/^[A-Za-z_][A-Za-z0-9_]*=/.test(args)) return [[legacy[1] as string, unquote((legacy[2] as string).trim())]];
  const pairs: Array<[string, string]> = [];
  const re = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  for (const m of args.matchAll(re)) pairs.push([m[1] as string, unquote(m[2] as string)]);
  return pairs;
}

/** Removes one level of shell-style quotes (`"…"` with backslash escapes, `'…'` literally). */
export function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) return value.slice(1, -1).replace(/\\(.)/g, "$1");
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1);
  return value;
}

/** Parses an exec-form JSON array (`["python", "main.py"]`), or undefined for the shell form. */
export function parseExecForm(args: string): string[] | undefined {
  if (!args.startsWith("[")) return undefined;
  try {
    const parsed = JSON.parse(args) as unknown;
    return Array.isArray(parsed) && parsed.every((a) => typeof a === "string") ? parsed : undefined;
  } catch {
    return undefined;
  }
}
