/**
 * What an image holds, read by running it through the engine: the Debian packages of its dpkg
 * database and the Python distributions its interpreter sees (with the file hashes of their RECORD
 * files). The raw outputs are parsed by pure functions, tested on their own.
 */
import type { BuiltImage, Engine } from "../engines/engine.ts";
import { ConnectorBuildError, lastLines } from "../errors.ts";

/** One installed Debian package, from /var/lib/dpkg/status. */
export interface DebianPackage {
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
  /** Source package name, when it differs from the binary package's. */
  readonly source?: string;
  readonly sourceVersion?: string;
  readonly maintainer?: string;
}

/** One file of a Python distribution, from its RECORD. */
export interface PythonFile {
  /** Path relative to the distribution's site-packages directory, as RECORD names it. */
  readonly path: string;
  /** Hex sha256 (RECORD's urlsafe base64 decoded). */
  readonly sha256: string;
  readonly size?: number;
}

/** One installed Python distribution. */
export interface PythonDistribution {
  readonly name: string;
  readonly version: string;
  /** `License-Expression` (PEP 639), else the `License` field when it is short, else undefined. */
  readonly license?: string;
  /** `License ::` trove classifiers. */
  readonly licenseClassifiers: readonly string[];
  /** Where it is installed (its .dist-info directory). */
  readonly location?: string;
  readonly files: readonly PythonFile[];
}

/** Everything {@link readImageContents} found in one image. */
export interface ImageContents {
  /** `ID-VERSION_ID` of /etc/os-release (`debian-12`), when present. */
  readonly distro?: string;
  readonly debianPackages: readonly DebianPackage[];
  /** The interpreter's version, when the image has Python. */
  readonly pythonVersion?: string;
  readonly pythonDistributions: readonly PythonDistribution[];
}

/** Parses dpkg's status file: installed packages only (`Status: install ok installed`), in file order. */
export function parseDpkgStatus(text: string): DebianPackage[] {
  const packages: DebianPackage[] = [];
  for (const paragraph of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of paragraph.split("\n")) {
      if (/^\s/.test(line)) {
        if (last !== undefined) fields.set(last, `${fields.get(last)}\n${line.trim()}`);
        continue;
      }
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      last = line.slice(0, colon).toLowerCase();
      fields.set(last, line.slice(colon + 1).trim());
    }
    const name = fields.get("package");
    const version = fields.get("version");
    if (name === undefined || version === undefined) continue;
    const status = (fields.get("status") ?? "").split(/\s+/);
    if (status[2] !== "installed") continue;
    // "Source: glibc (2.36-9)" names the source package and, when it differs, its version.
    const source = /^(\S+)(?:\s+\((\S+)\))?$/.exec(fields.get("source") ?? "");
    packages.push({
      name,
      version,
      architecture: fields.get("architecture") ?? "all",
      ...(source?.[1] !== undefined && source[1] !== name ? { source: source[1] } : {}),
      ...(source?.[2] !== undefined ? { sourceVersion: source[2] } : {}),
      ...(fields.get("maintainer") !== undefined ? { maintainer: fields.get("maintainer") as string } : {}),
    });
  }
  return packages;
}

/** `ID-VERSION_ID` from /etc/os-release text (`debian-12`), or undefined. */
export function parseOsRelease(text: string): string | undefined {
  const value = (name: string) => {
    const m = new RegExp(`^${name}=(.*)$`, "m").exec(text);
    return m?.[1]?.trim().replace(/^["']|["']$/g, "");
  };
  const id = value("ID");
  const version = value("VERSION_ID");
  return id === undefined ? undefined : version === undefined ? id : `${id}-${version}`;
}

/** RECORD's `sha256=<urlsafe base64, unpadded>` value → hex. */
export function recordHashToHex(value: string): string {
  return Buffer.from(value.replace(/-/g, "+").replace(/_/g, "/"), "base64").toString("hex");
}

/**
 * Printed by the image's Python: every distribution importlib.metadata sees (the script's own
 * directory, the working directory, is left out of sys.path so a source checkout is not counted).
 */
export const PYTHON_DISTRIBUTIONS_SCRIPT = `
import json, sys
sys.path = [p for p in sys.path[1:]]
from importlib import metadata
out = []
for d in metadata.distributions():
    m = d.metadata
    name = m.get("Name")
    if not name:
        continue
    files = []
    for f in d.files or []:
        if f.hash is not None:
            files.append([str(f), f.hash.mode, f.hash.value, f.size])
    out.append({
        "name": name,
        "version": m.get("Version") or "",
        "license": m.get("License"),
        "licenseExpression": m.get("License-Expression"),
        "classifiers": [c for c in (m.get_all("Classifier") or []) if c.startswith("License ::")],
        "location": str(getattr(d, "_path", "")) or None,
        "files": files,
    })
json.dump({"python": sys.version.split()[0], "distributions": out}, sys.stdout)
`;

interface RawDistribution {
  name: string;
  version: string;
  license?: string | null;
  licenseExpression?: string | null;
  classifiers?: string[];
  location?: string | null;
  files?: Array<[string, string, string, number | null]>;
}

/** Parses {@link PYTHON_DISTRIBUTIONS_SCRIPT}'s output. */
export function parsePythonDistributions(stdout: string, where: string): { pythonVersion: string; distributions: PythonDistribution[] } {
  let raw: { python: string; distributions: RawDistribution[] };
  try {
    raw = JSON.parse(stdout) as typeof raw;
  } catch (error) {
    throw new ConnectorBuildError("RUN_FAILED", `${where}: the Python distribution listing is not JSON (${(error as Error).message}): ${lastLines(stdout, 3)}`);
  }
  const distributions = raw.distributions.map((d): PythonDistribution => {
    const short = d.license !== null && d.license !== undefined && d.license.trim() !== "" && d.license.length <= 100 && !d.license.includes("\n") && d.license !== "UNKNOWN";
    const license = d.licenseExpression ?? (short ? (d.license as string).trim() : undefined);
    return {
      name: d.name,
      version: d.version,
      ...(license !== undefined && license !== null ? { license } : {}),
      licenseClassifiers: d.classifiers ?? [],
      ...(d.location ? { location: d.location } : {}),
      files: (d.files ?? [])
        .filter(([, mode]) => mode === "sha256")
        .map(([path, , value, size]) => ({ path, sha256: recordHashToHex(value), ...(typeof size === "number" ? { size } : {}) })),
    };
  });
  return { pythonVersion: raw.python, distributions };
}

/**
 * {@link PYTHON_DISTRIBUTIONS_SCRIPT} that also prints the dpkg database and /etc/os-release (null
 * when absent), so an image with Python is read with one container instead of three.
 */
export const IMAGE_CONTENTS_SCRIPT = `${PYTHON_DISTRIBUTIONS_SCRIPT.replace("json.dump({", `def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None
json.dump({"dpkgStatus": read("/var/lib/dpkg/status"), "osRelease": read("/etc/os-release"), `)}`;

function contentsOf(dpkgStatus: string | undefined, osRelease: string | undefined, python: { pythonVersion: string; distributions: PythonDistribution[] } | undefined): ImageContents {
  const distro = osRelease !== undefined ? parseOsRelease(osRelease) : undefined;
  return {
    ...(distro !== undefined ? { distro } : {}),
    debianPackages: dpkgStatus !== undefined ? parseDpkgStatus(dpkgStatus) : [],
    ...(python !== undefined ? { pythonVersion: python.pythonVersion } : {}),
    pythonDistributions: python?.distributions ?? [],
  };
}

/**
 * Reads the Debian packages and Python distributions of a built (or pulled) image through the engine:
 * one container when the image has Python, else `cat` of the dpkg database and /etc/os-release.
 */
export async function readImageContents(engine: Engine, image: BuiltImage): Promise<ImageContents> {
  const where = `image ${image.ref} (${image.platform})`;
  for (const interpreter of ["python", "python3"]) {
    const run = await engine.run(image, [interpreter, "-c", IMAGE_CONTENTS_SCRIPT]);
    if (run.exitCode === 0) {
      const files = parseFiles(run.stdout, where);
      return contentsOf(files.dpkgStatus, files.osRelease, parsePythonDistributions(run.stdout, where));
    }
    if (run.exitCode !== 127 && !/not found|no such file/i.test(run.stderr)) {
      throw new ConnectorBuildError("RUN_FAILED", `${where}: listing Python distributions with ${interpreter} exited with ${run.exitCode}: ${lastLines(run.stderr, 5)}`);
    }
  }
  const status = await engine.run(image, ["cat", "/var/lib/dpkg/status"]);
  const osRelease = await engine.run(image, ["cat", "/etc/os-release"]);
  return contentsOf(status.exitCode === 0 ? status.stdout : undefined, osRelease.exitCode === 0 ? osRelease.stdout : undefined, undefined);
}

function parseFiles(stdout: string, where: string): { dpkgStatus?: string; osRelease?: string } {
  let raw: { dpkgStatus?: string | null; osRelease?: string | null };
  try {
    raw = JSON.parse(stdout) as typeof raw;
  } catch (error) {
    throw new ConnectorBuildError("RUN_FAILED", `${where}: the image contents listing is not JSON (${(error as Error).message}): ${lastLines(stdout, 3)}`);
  }
  return { ...(typeof raw.dpkgStatus === "string" ? { dpkgStatus: raw.dpkgStatus } : {}), ...(typeof raw.osRelease === "string" ? { osRelease: raw.osRelease } : {}) };
}
