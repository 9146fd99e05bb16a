/**
 * What a connector's dependency install depends on, computed once when the connector is prepared
 * and carried as data to the recipe: the manifests present, the dependency set the install step
 * installs (keyed by content, without the connector's own name, so connectors with the same set
 * share one layer), and how the connector's own package is installed afterwards.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { lockedRequirements } from "./poetry-lock.ts";
import { requirementsOnlyNameTheConnector } from "./requirements-file.ts";
import { readLockIfPresent, type ConnectorLock } from "./lock-file.ts";

/** Where connector code lives in every image. */
export const CONNECTOR_CODE_DIR = "/airbyte/integration_code";

/** Dependency manifests copied with the connector's code, in order, when they exist. */
export const DEPENDENCY_MANIFESTS = ["setup.py", "pyproject.toml", "poetry.lock", "requirements.txt", "README.md"] as const;

/**
 * The set the dependency step installs:
 * - `locked`: exact, hash-pinned requirement lines (from `connector-build.lock` per platform, or
 *   poetry.lock's main group); installed with `--no-deps --require-hashes`: nothing is resolved again.
 * - `requirements`: requirement lines the installer resolves (setup.py's literal `install_requires`,
 *   requirements.txt without its references to the connector itself).
 * - `connector`: the set could not be read without running the connector's own build (a computed
 *   `install_requires`, requirements.txt options): the manifests are copied and installed as they
 *   are, in a layer of the connector's own.
 */
export type DependencySet =
  | {
      readonly kind: "locked";
      readonly source: "connector-build.lock" | "poetry.lock";
      readonly lines: (platform: string) => readonly string[];
      /** False when a line cannot carry a hash (a local folder, a git checkout). Default: true. */
      readonly hashed?: boolean;
    }
  | { readonly kind: "requirements"; readonly source: string; readonly lines: readonly string[] }
  | { readonly kind: "connector"; readonly reason: string };

/** How the connector's own package is installed once its code is in place. */
export type SelfInstall = "package" | "poetry-root" | "none";

/** A connector's dependency inputs (see the module comment). */
export interface DependencyInputs {
  /** Manifests present and copied with the code (a requirements.txt of only `-e .` is left out). */
  readonly manifests: readonly string[];
  readonly set: DependencySet;
  readonly selfInstall: SelfInstall;
  /** `connector-build.lock`, when the connector has one. */
  readonly lock?: ConnectorLock;
}

const STRING = String.raw`(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')`;

/** The strings of a Python list literal of string literals (comments and trailing commas allowed), else undefined. */
function stringList(text: string): string[] | undefined {
  const body = text.replace(/#[^\n]*/g, "").trim();
  if (!body.startsWith("[") || !body.endsWith("]")) return undefined;
  const inner = body.slice(1, -1);
  const items: string[] = [];
  const re = new RegExp(String.raw`\s*(${STRING})\s*(,|$)`, "y");
  let at = 0;
  while (at < inner.length && inner.slice(at).trim() !== "") {
    re.lastIndex = at;
    const m = re.exec(inner);
    if (!m) return undefined;
    items.push((m[1] as string).slice(1, -1).replace(/\\(.)/g, "$1"));
    at = re.lastIndex;
  }
  return items;
}

/** The bracketed text starting at `start` (a `[`), up to its matching `]`, skipping strings and comments. */
function bracketed(text: string, start: number): string | undefined {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'") {
      const end = text.indexOf(c, i + 1);
      if (end < 0) return undefined;
      i = end;
    } else if (c === "#") {
      const end = text.indexOf("\n", i);
      i = end < 0 ? text.length : end;
    } else if (c === "[") depth++;
    else if (c === "]") {
      depth--;
      if (depth === 0) return text.slice(start, i + 1);
    }
  }
  return undefined;
}

/**
 * setup.py's `install_requires` when it is written as data: a list literal, or names bound at module
 * level to list literals, joined with `+` (the shape of every Airbyte connector's setup.py:
 * `MAIN_REQUIREMENTS = [...]`). Anything computed gives undefined: the set is then the connector's own.
 */
export function literalInstallRequires(setupPy: string): string[] | undefined {
  const arg = /\binstall_requires\s*=\s*/.exec(setupPy);
  if (!arg) return /\bsetup\s*\(/.test(setupPy) && !/\*\*/.test(setupPy) ? [] : undefined;
  if (/\binstall_requires\s*=/.test(setupPy.slice(arg.index + arg[0].length))) return undefined;
  const valueAt = arg.index + arg[0].length;
  const parts: string[] = [];
  let at = valueAt;
  for (;;) {
    const rest = setupPy.slice(at);
    let list: string[] | undefined;
    let consumed: number;
    if (rest.startsWith("[")) {
      const text = bracketed(setupPy, at);
      if (text === undefined) return undefined;
      list = stringList(text);
      consumed = text.length;
    } else {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest)?.[0];
      if (name === undefined) return undefined;
      const bindings = [...setupPy.matchAll(new RegExp(String.raw`^${name}\s*=\s*\[`, "gm"))];
      if (bindings.length !== 1) return undefined;
      if (new RegExp(String.raw`\b${name}\s*(\+=|\.(append|extend|insert)\()`).test(setupPy)) return undefined;
      const binding = bindings[0] as RegExpMatchArray;
      const text = bracketed(setupPy, (binding.index as number) + binding[0].length - 1);
      if (text === undefined) return undefined;
      list = stringList(text);
      consumed = name.length;
    }
    if (list === undefined) return undefined;
    parts.push(...list);
    at += consumed;
    const next = /^\s*(\+|,|\))/.exec(setupPy.slice(at));
    if (!next) return undefined;
    if (next[1] !== "+") return parts;
    at += next[0].length;
    at += (/^\s*/.exec(setupPy.slice(at))?.[0].length ?? 0);
  }
}

/** Requirement lines of a requirements.txt without references to the connector itself, or undefined when it uses options or paths. */
function plainRequirements(text: string): string[] | undefined {
  const lines: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, "").trim();
    if (line === "") continue;
    if (/^(-e\s+)?\.(\[[^\]]*\])?$/.test(line) || /^--editable\s+\.$/.test(line)) continue;
    if (line.startsWith("-") || /^(\.|\/|file:)/.test(line) || line.includes("://")) return undefined;
    lines.push(line);
  }
  return lines;
}

/** True when pyproject.toml declares a Poetry project without a package (`package-mode = false`). */
export function isPoetryNonPackageMode(pyproject: string): boolean {
  return /^\s*package-mode\s*=\s*false\s*(#.*)?$/m.test(pyproject);
}

function isPoetryProject(manifests: readonly string[]): boolean {
  return !manifests.includes("setup.py") && manifests.includes("pyproject.toml") && manifests.includes("poetry.lock");
}

/** A lock whose artifacts are the whole dependency set (a poetry project's, or one resolved by the lock command). */
function lockIsComplete(lock: ConnectorLock, manifests: readonly string[]): boolean {
  return isPoetryProject(manifests) || lock.resolution !== undefined;
}

/** Reads a connector folder's dependency inputs (see {@link DependencyInputs}). */
export function readDependencyInputs(dir: string): DependencyInputs {
  const present = DEPENDENCY_MANIFESTS.filter((f) => existsSync(join(dir, f)));
  const read = (f: string) => readFileSync(join(dir, f), "utf8");
  const hasSelf = present.includes("setup.py") || present.includes("pyproject.toml");
  const selfOnly = present.includes("requirements.txt") && hasSelf && requirementsOnlyNameTheConnector(read("requirements.txt"));
  const manifests = selfOnly ? present.filter((f) => f !== "requirements.txt") : present;
  const lock = readLockIfPresent(dir);
  const poetry = isPoetryProject(manifests);
  const selfInstall: SelfInstall = poetry ? "poetry-root" : manifests.includes("setup.py") || manifests.includes("pyproject.toml") ? "package" : "none";
  const withLock = lock !== undefined ? { lock } : {};
  if (lock !== undefined && lockIsComplete(lock, manifests)) {
    const byPlatform = lock.platforms;
    return {
      manifests,
      selfInstall,
      ...withLock,
      set: {
        kind: "locked",
        source: "connector-build.lock",
        lines: (platform) => (byPlatform[platform]?.artifacts ?? []).map((a) => `${a.name}==${a.version} --hash=${a.sha256}`),
      },
    };
  }
  if (poetry) {
    const { lines, hashed } = lockedRequirements(read("pyproject.toml"), read("poetry.lock"), { pyproject: join(dir, "pyproject.toml"), lock: join(dir, "poetry.lock") }, { localRoot: CONNECTOR_CODE_DIR });
    return { manifests, selfInstall, ...withLock, set: { kind: "locked", source: "poetry.lock", lines: () => lines, hashed } };
  }
  const lines: string[] = [];
  const sources: string[] = [];
  if (manifests.includes("requirements.txt")) {
    const fromFile = plainRequirements(read("requirements.txt"));
    if (fromFile === undefined) return { manifests, selfInstall, ...withLock, set: { kind: "connector", reason: "requirements.txt uses options or paths" } };
    lines.push(...fromFile);
    sources.push("requirements.txt");
  }
  if (manifests.includes("setup.py")) {
    const requires = literalInstallRequires(read("setup.py"));
    if (requires === undefined) return { manifests, selfInstall, ...withLock, set: { kind: "connector", reason: "setup.py computes install_requires" } };
    lines.push(...requires);
    sources.push("setup.py install_requires");
  } else if (manifests.includes("pyproject.toml")) {
    return { manifests, selfInstall, ...withLock, set: { kind: "connector", reason: "pyproject.toml without poetry.lock" } };
  }
  return { manifests, selfInstall, ...withLock, set: { kind: "requirements", source: sources.join(" + "), lines } };
}
