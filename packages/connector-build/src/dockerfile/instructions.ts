/** One Dockerfile instruction, continuation lines joined. */
export interface DockerfileInstruction {
  /** Upper-cased keyword: FROM, RUN, ENV… */
  readonly keyword: string;
  /** Everything after the keyword, continuations joined with a space. */
  readonly args: string;
  /** 1-based line of the keyword. */
  readonly line: number;
  /** The original text. */
  readonly text: string;
}

/** Splits a Dockerfile into instructions: comments and blank lines dropped, `\` continuations joined. */
export function parseDockerfileInstructions(content: string): DockerfileInstruction[] {
  const lines = content.replace(/\r\n?/g, "\n").split("\n");
  const out: DockerfileInstruction[] = [];
  let buffer: string[] = [];
  let startLine = 0;
  for (const [i, raw] of lines.entries()) {
    const trimmed = raw.trim();
    if (buffer.length === 0 && (trimmed === "" || trimmed.startsWith("#"))) continue;
    if (buffer.length > 0 && trimmed.startsWith("#")) continue; // comments inside continuations
    if (buffer.length === 0) startLine = i + 1;
    if (trimmed.endsWith("\\")) {
      buffer.push(trimmed.slice(0, -1).trim());
      continue;
    }
    buffer.push(trimmed);
    const text = buffer.filter(Boolean).join(" ");
    buffer = [];
    const m = /^(\S+)\s*(.*)$/.exec(text);
    if (m) out.push({ keyword: (m[1] as string).toUpperCase(), args: (m[2] as string).trim(), line: startLine, text });
  }
  if (buffer.length > 0) {
    const text = buffer.join(" ");
    const m = /^(\S+)\s*(.*)$/.exec(text);
    if (m) out.push({ keyword: (m[1] as string).toUpperCase(), args: (m[2] as string).trim(), line: startLine, text });
  }
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

/** Removes one level of shell-style quotes. */
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
