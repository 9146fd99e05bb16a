import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import semver from "semver";

interface Manifest {
  name: string;
  version: string;
  engines?: { node?: string };
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** What a package promises about Node against what its installed dependencies ask for. */
export interface EnginesReport {
  readonly name: string;
  /** The package's `engines.node`. */
  readonly declared: string | undefined;
  /** The lowest Node version that range admits. */
  readonly floor: string | undefined;
  /** How many installed packages its dependency closure holds. */
  readonly closure: number;
  /** `name@version needs <range>` for each dependency whose engines.node excludes the floor. */
  readonly violations: string[];
}

function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest;
}

/** Node's lookup: node_modules/<name> in `from` or a parent, not above `root`. */
function findInstalled(name: string, from: string, root: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (dir === root) return undefined;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Walks the installed dependency closure of `name` in an npm project and lists the dependencies
 * whose `engines.node` would refuse the lowest Node version the package itself declares.
 */
export function checkEngines(projectDir: string, name: string): EnginesReport {
  const top = findInstalled(name, projectDir, projectDir);
  if (!top) throw new Error(`${name} is not installed in ${projectDir}: expected node_modules/${name}/package.json`);
  const declared = readManifest(top).engines?.node;
  const floor = declared ? semver.minVersion(declared)?.version : undefined;
  const violations: string[] = [];
  const seen = new Set<string>();
  const queue = [top];
  while (queue.length > 0) {
    const dir = queue.shift() as string;
    if (seen.has(dir)) continue;
    seen.add(dir);
    const manifest = readManifest(dir);
    const range = manifest.engines?.node;
    if (floor && range && dir !== top && !semver.satisfies(floor, range, { includePrerelease: true })) {
      violations.push(`${manifest.name}@${manifest.version} needs node ${range}`);
    }
    const optional = new Set(Object.keys(manifest.optionalDependencies ?? {}));
    for (const dependency of [...Object.keys(manifest.dependencies ?? {}), ...optional]) {
      const found = findInstalled(dependency, dir, projectDir);
      if (found) queue.push(found);
      else if (!optional.has(dependency)) violations.push(`${manifest.name}@${manifest.version}: dependency ${dependency} is not installed`);
    }
  }
  return { name, declared, floor, closure: seen.size, violations: [...new Set(violations)].sort() };
}
