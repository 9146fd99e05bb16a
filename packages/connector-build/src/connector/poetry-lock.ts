import { parse as parseToml } from "smol-toml";
import { ConnectorBuildError } from "../errors.ts";

/**
 * A poetry project's main dependencies as pinned, hash-checked requirement lines.
 *
 * Why not `poetry install` in the image: poetry reads PyPI through its JSON API and cannot be
 * pointed at a mirror without editing pyproject.toml, so a build-wide `--pip-index-url`, a loopback
 * route or an offline wheelhouse would not reach it. pip honours all three, and `--require-hashes`
 * with the lock's own sha256 values checks every artifact.
 */
export interface LockedRequirements {
  /** One line per package: `name==version ; markers --hash=sha256:… …` (markers only when conditional). */
  readonly lines: readonly string[];
  /** The locked packages the main group needs, by canonical name → version. */
  readonly packages: ReadonlyMap<string, string>;
  /** False when a line cannot carry a hash (a local folder or a git checkout): the set then installs without `--require-hashes`. */
  readonly hashed: boolean;
}

type Dependency = { version?: string; markers?: string; extras?: string[]; optional?: boolean; python?: string };
interface LockedPackage {
  name: string;
  version: string;
  files: Array<{ file: string; hash: string }>;
  /** Where the package comes from when not from an index: a local file or folder, a URL, a git repository. */
  source?: { type?: string; url?: string; resolved_reference?: string; reference?: string };
  dependencies: Record<string, string | Dependency | Dependency[]>;
  extras: Record<string, string[]>;
}

/** PEP 503 normalisation: lowercase, runs of `-_.` become `-`. */
export function canonicalName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

function asDependencyList(spec: string | Dependency | Dependency[]): Dependency[] {
  if (typeof spec === "string") return [{ version: spec }];
  return Array.isArray(spec) ? spec : [spec];
}

/** A `python = ">=3.9,<3.12"` constraint on an edge, as a PEP 508 marker. */
function pythonMarker(constraint: string | undefined): string | null {
  if (!constraint || constraint.trim() === "*") return null;
  const parts = constraint.split(",").map((p) => p.trim()).filter(Boolean);
  const out: string[] = [];
  for (const part of parts) {
    const m = /^(>=|<=|>|<|==|!=|\^|~)?\s*([0-9][0-9.]*)\*?$/.exec(part);
    if (!m) return null;
    const [, op = "==", version = ""] = m;
    if (op === "^" || op === "~") out.push(`python_version >= "${version}"`);
    else out.push(`python_version ${op} "${version}"`);
  }
  return out.join(" and ");
}

function and(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return `(${a}) and (${b})`;
}

/** `PySocks (>=1.5.6,!=1.5.7) ; extra == "socks"` → `pysocks`. */
function extraRequirementName(requirement: string): string {
  return canonicalName(requirement.split(/[\s(;<>=!~[]/)[0] ?? requirement);
}

function readPackages(lock: Record<string, unknown>, file: string): Map<string, LockedPackage> {
  const list = lock["package"];
  if (!Array.isArray(list)) {
    throw new ConnectorBuildError("INVALID_CONNECTOR", `${file}: no [[package]] entries: expected a poetry.lock written by \`poetry lock\``);
  }
  const packages = new Map<string, LockedPackage>();
  for (const [i, raw] of list.entries()) {
    const p = raw as Record<string, unknown>;
    if (typeof p["name"] !== "string" || typeof p["version"] !== "string") {
      throw new ConnectorBuildError("INVALID_CONNECTOR", `${file}: package #${i + 1} has no name or version`);
    }
    packages.set(canonicalName(p["name"]), {
      name: p["name"],
      version: p["version"],
      files: Array.isArray(p["files"]) ? (p["files"] as LockedPackage["files"]) : [],
      ...(p["source"] !== null && typeof p["source"] === "object" ? { source: p["source"] as NonNullable<LockedPackage["source"]> } : {}),
      dependencies: (p["dependencies"] ?? {}) as LockedPackage["dependencies"],
      extras: (p["extras"] ?? {}) as LockedPackage["extras"],
    });
  }
  return packages;
}

/** The root's main dependencies: `[tool.poetry.dependencies]` (poetry 1) and `[project].dependencies` (poetry 2). */
function rootDependencies(pyproject: Record<string, unknown>): Array<[string, Dependency[]]> {
  const roots: Array<[string, Dependency[]]> = [];
  const poetry = ((pyproject["tool"] as Record<string, unknown> | undefined)?.["poetry"] ?? {}) as Record<string, unknown>;
  const deps = (poetry["dependencies"] ?? {}) as Record<string, string | Dependency | Dependency[]>;
  for (const [name, spec] of Object.entries(deps)) {
    if (canonicalName(name) === "python") continue;
    roots.push([name, asDependencyList(spec)]);
  }
  const project = (pyproject["project"] ?? {}) as Record<string, unknown>;
  for (const requirement of (project["dependencies"] ?? []) as string[]) {
    const [spec, marker] = requirement.split(";", 2) as [string, string | undefined];
    const extras = /\[([^\]]*)\]/.exec(spec)?.[1]?.split(",").map((e) => e.trim()).filter(Boolean);
    roots.push([extraRequirementName(spec), [{ ...(marker ? { markers: marker.trim() } : {}), ...(extras ? { extras } : {}) }]]);
  }
  return roots;
}

/**
 * Walks the lock from the project's main dependencies (following extras and markers, skipping
 * optional dependencies no extra asked for) and returns pip requirement lines pinned to the locked
 * versions with every locked sha256, so `pip install --no-deps --require-hashes` installs exactly
 * the lock. Files: the texts of pyproject.toml and poetry.lock, and their paths for messages.
 */
export function lockedRequirements(
  pyprojectText: string,
  lockText: string,
  paths: { pyproject: string; lock: string } = { pyproject: "pyproject.toml", lock: "poetry.lock" },
  options: { localRoot?: string } = {},
): LockedRequirements {
  let pyproject: Record<string, unknown>;
  let lock: Record<string, unknown>;
  try {
    pyproject = parseToml(pyprojectText) as Record<string, unknown>;
  } catch (error) {
    throw new ConnectorBuildError("INVALID_CONNECTOR", `${paths.pyproject}: not valid TOML: ${(error as Error).message.split("\n")[0]}`, { cause: error });
  }
  try {
    lock = parseToml(lockText) as Record<string, unknown>;
  } catch (error) {
    throw new ConnectorBuildError("INVALID_CONNECTOR", `${paths.lock}: not valid TOML: ${(error as Error).message.split("\n")[0]}`, { cause: error });
  }
  const packages = readPackages(lock, paths.lock);
  // Per package: the conditions under which it is needed (null = always).
  const conditions = new Map<string, Set<string | null>>();
  const seen = new Set<string>();
  const queue: Array<{ name: string; marker: string | null; extras: readonly string[]; via: string }> = [];
  const enqueue = (name: string, deps: Dependency[], parentMarker: string | null, parentExtras: readonly string[], via: string, optionalAllowed: (n: string) => boolean) => {
    for (const dep of deps) {
      if (dep.optional && !optionalAllowed(canonicalName(name))) continue;
      const marker = and(parentMarker, and(dep.markers ?? null, pythonMarker(dep.python)));
      queue.push({ name: canonicalName(name), marker, extras: dep.extras ?? [], via });
    }
    void parentExtras;
  };
  for (const [name, deps] of rootDependencies(pyproject)) enqueue(name, deps, null, [], paths.pyproject, () => false);
  while (queue.length > 0) {
    const item = queue.shift()!;
    const key = `${item.name}|${item.marker ?? ""}|${[...item.extras].sort().join(",")}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const pkg = packages.get(item.name);
    if (!pkg) {
      throw new ConnectorBuildError(
        "INVALID_CONNECTOR",
        `${paths.lock}: ${item.name} (required by ${item.via}) is not locked: expected poetry.lock to match pyproject.toml (run \`poetry lock --no-update\`)`,
      );
    }
    const set = conditions.get(item.name) ?? new Set<string | null>();
    if (set.has(null)) continue;
    set.add(item.marker);
    conditions.set(item.name, set);
    const extraNames = new Set(item.extras.flatMap((extra) => (pkg.extras[extra] ?? []).map(extraRequirementName)));
    for (const [depName, spec] of Object.entries(pkg.dependencies)) {
      enqueue(depName, asDependencyList(spec), item.marker, item.extras, pkg.name, (n) => extraNames.has(n));
    }
  }
  const lines: string[] = [];
  const pinned = new Map<string, string>();
  let hashed = true;
  // Local sources are relative to the project: the build's code directory (where a hook puts them before the install).
  const root = (options.localRoot ?? ".").replace(/\/+$/, "");
  for (const name of [...conditions.keys()].sort()) {
    const pkg = packages.get(name)!;
    const markers = conditions.get(name)!;
    const type = pkg.source?.type;
    const unhashable = type === "directory" || type === "git";
    if (pkg.files.length === 0 && !unhashable) {
      throw new ConnectorBuildError("INVALID_CONNECTOR", `${paths.lock}: ${pkg.name} ${pkg.version} has no file hashes: expected a lock written by poetry ≥ 1.2`);
    }
    const marker = markers.has(null) ? "" : ` ; ${[...markers].map((m) => `(${m})`).join(" or ")}`;
    const hashes = unhashable ? "" : [...new Set(pkg.files.map((f) => f.hash))].sort().map((h) => ` --hash=${h}`).join("");
    const url = pkg.source?.url ?? "";
    const local = (path: string) => (path.startsWith("/") ? `file://${path}` : `file://${root}/${path.replace(/^\.\//, "")}`);
    const requirement =
      type === "file" || type === "directory"
        ? `${pkg.name} @ ${local(url)}`
        : type === "url"
          ? `${pkg.name} @ ${url}`
          : type === "git"
            ? `${pkg.name} @ git+${url}@${pkg.source?.resolved_reference ?? pkg.source?.reference ?? "HEAD"}`
            : `${pkg.name}==${pkg.version}`;
    if (unhashable) hashed = false;
    lines.push(`${requirement}${marker}${hashes}`);
    pinned.set(name, pkg.version);
  }
  return { lines, packages: pinned, hashed };
}
