import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** One rule of a `.dockerignore`. */
export interface DockerignoreRule {
  /** 1-based line in the file. */
  readonly line: number;
  /** The rule as written. */
  readonly text: string;
  /** `!pattern`: re-includes what earlier rules excluded. */
  readonly negated: boolean;
  readonly pattern: RegExp;
}

/** Docker's pattern syntax (`*`, `?`, `[…]`, `**`, `\` escapes) as an anchored regular expression over `/`-separated paths. */
function patternToRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "*" && pattern[i + 1] === "*") {
      i++;
      if (pattern[i + 1] === "/") {
        i++;
        re += "(?:.*/)?";
      } else re += ".*";
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        re += `[${pattern.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else if (c === "\\" && i + 1 < pattern.length) re += `\\${pattern[++i]}`;
    else re += c.replace(/[.+^${}()|\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** Cleans a pattern as Docker does: leading `/` and `./` dropped, `//` and trailing `/` removed. */
function cleanPattern(pattern: string): string {
  const parts: string[] = [];
  for (const part of pattern.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === ".." && parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
    else parts.push(part);
  }
  return parts.join("/") || ".";
}

/** Parses a `.dockerignore`: comments and blank lines skipped, each rule trimmed and cleaned. */
export function parseDockerignore(text: string): DockerignoreRule[] {
  const rules: DockerignoreRule[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const negated = trimmed.startsWith("!");
    const body = cleanPattern((negated ? trimmed.slice(1) : trimmed).trim());
    rules.push({ line: index + 1, text: trimmed, negated, pattern: patternToRegExp(body) });
  });
  return rules;
}

/**
 * The rule that hides a context path from a Docker build, or undefined when the path is sent. As
 * Docker decides: the last rule matching the path or one of its parent folders wins.
 *
 * @param path - relative to the context root, `/` separators.
 */
export function dockerignoreRuleHiding(rules: readonly DockerignoreRule[], path: string): DockerignoreRule | undefined {
  const clean = cleanPattern(path);
  const candidates = clean.split("/").map((_, i, parts) => parts.slice(0, i + 1).join("/"));
  let hiding: DockerignoreRule | undefined;
  for (const rule of rules) {
    if (candidates.some((c) => rule.pattern.test(c))) hiding = rule.negated ? undefined : rule;
  }
  return hiding;
}

/** The rules of `<contextDir>/.dockerignore`, or undefined when there is none. */
export function readDockerignore(contextDir: string): DockerignoreRule[] | undefined {
  const path = join(contextDir, ".dockerignore");
  return existsSync(path) ? parseDockerignore(readFileSync(path, "utf8")) : undefined;
}
