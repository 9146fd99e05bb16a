import type { BuiltImage, Engine, ImageRunConfig, ResolvedImage } from "../engines/engine.ts";

export type { ResolvedImage } from "../engines/engine.ts";
import { ConnectorBuildError, lastLines } from "../errors.ts";

/** What a probe run in an image found, or why it could not. Probes never throw for the image's sake. */
export type Probe<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly detail: string };

/** Runs an argv without the entrypoint; a failure to start becomes a non-zero exit, not an exception. */
async function runQuietly(engine: Engine, image: BuiltImage, argv: readonly string[], options: { useEntrypoint?: boolean } = {}) {
  try {
    return await engine.run(image, argv, options);
  } catch (error) {
    if (ConnectorBuildError.isInstance(error) && error.code === "RUN_FAILED") {
      return { stdout: "", stderr: error.message, exitCode: -1 };
    }
    throw error;
  }
}

function failure(argv: readonly string[], result: { stdout: string; stderr: string; exitCode: number }): string {
  return `${JSON.stringify(argv)} exited with ${result.exitCode}${(() => {
    const out = lastLines(`${result.stderr}\n${result.stdout}`, 3);
    return out ? `: ${out.replace(/\n/g, " ⏎ ")}` : "";
  })()}`;
}

// ---------------------------------------------------------------------------------------------
// Environment

/**
 * Parses `printenv -0` output (NUL-separated `NAME=value` entries). Each entry is split on its
 * FIRST `=`: values may contain `=` (`JAVA_OPTS=-Da=b`, base64 padding…), where the seed's
 * `line.split("=")` unpacking into two names would have raised "too many values to unpack".
 */
export function parsePrintenvNul(output: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of output.split("\0")) {
    if (entry === "") continue;
    const eq = entry.indexOf("=");
    if (eq <= 0) continue;
    env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/**
 * Parses plain `printenv` output (one `NAME=value` per line), splitting on the first `=` as
 * {@link parsePrintenvNul} does. A line that is not `NAME=…` continues the previous value (a value
 * holding a newline); a continuation line that itself looks like `NAME=…` cannot be told apart,
 * which is why `printenv -0` is preferred when the image's printenv supports it.
 */
export function parsePrintenvLines(output: string): Record<string, string> {
  const env: Record<string, string> = {};
  let last: string | undefined;
  const lines = output.split("\n");
  if (lines.at(-1) === "") lines.pop();
  for (const line of lines) {
    const m = /^([^=\s]+)=/.exec(line);
    if (m) {
      last = m[1] as string;
      env[last] = line.slice(last.length + 1);
    } else if (last !== undefined) {
      env[last] += `\n${line}`;
    }
  }
  return env;
}

/**
 * The environment a process started in the image sees (`printenv`, without the entrypoint): the
 * image's declared variables plus what the container runtime adds (HOSTNAME, a default PATH/HOME).
 */
export async function readRuntimeEnv(engine: Engine, image: BuiltImage): Promise<Probe<Record<string, string>>> {
  const nul = await runQuietly(engine, image, ["printenv", "-0"]);
  if (nul.exitCode === 0) return { ok: true, value: parsePrintenvNul(nul.stdout) };
  // BusyBox's printenv has no -0: it reads "-0" as a variable name and exits 1.
  const plain = await runQuietly(engine, image, ["printenv"]);
  if (plain.exitCode === 0) return { ok: true, value: parsePrintenvLines(plain.stdout) };
  return { ok: false, detail: failure(["printenv"], plain) };
}

// ---------------------------------------------------------------------------------------------
// System packages

/** The system packages of an image: name → version. */
export interface SystemPackages {
  /** `dpkg` (Debian, Ubuntu) or `apk` (Alpine). */
  readonly manager: "dpkg" | "apk";
  /** Package name (as `dpkg --get-selections` / `apk info` print it, e.g. `libc6-dev:arm64`) → version. */
  readonly packages: Readonly<Record<string, string>>;
}

/** The dpkg-query format {@link parseDpkgQuery} reads: status abbreviation, name, version. */
export const DPKG_QUERY_FORMAT = "${db:Status-Abbrev}\t${binary:Package}\t${Version}\n";

/**
 * Parses `dpkg-query -W -f '${db:Status-Abbrev}\t${binary:Package}\t${Version}\n'`, keeping the
 * packages whose status is installed.
 *
 * The seed listed `dpkg --get-selections` and parsed it with `.replace("\t", "").replace("install", "")`.
 * `${binary:Package}` is the very name `--get-selections` prints (with the same `:arch` qualifier
 * for Multi-Arch: same and foreign packages), so the sets are the seed's, without two flaws of that
 * parsing: a name containing "install" was mangled (`install-info` → `-info`), and a removed
 * package whose configuration remains (selection `deinstall`) came out as `<name>de`.
 */
export function parseDpkgQuery(output: string): Record<string, string> {
  const packages: Record<string, string> = {};
  for (const line of output.split("\n")) {
    const [status, name, version] = line.split("\t");
    if (!status || !name) continue;
    // Status-Abbrev is want/status/error, e.g. "ii ", "rc ": the second letter "i" is installed.
    if (status[1] !== "i") continue;
    packages[name] = version ?? "";
  }
  return packages;
}

/**
 * Parses `apk info -v` (one `name-version-rN` per line). apk versions always end in `-r<N>` and
 * hold no `-`, so the version is the last two dash-separated parts.
 */
export function parseApkInfo(output: string): Record<string, string> {
  const packages: Record<string, string> = {};
  for (const raw of output.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("WARNING")) continue;
    const m = /^(.+)-([^-]+-r\d+)$/.exec(line);
    if (m) packages[m[1] as string] = m[2] as string;
    else packages[line] = "";
  }
  return packages;
}

/** Lists installed system packages: dpkg-query on Debian-like images, else `apk info -v` (Alpine). */
export async function listSystemPackages(engine: Engine, image: BuiltImage): Promise<Probe<SystemPackages>> {
  const dpkgArgv = ["dpkg-query", "-W", "-f", DPKG_QUERY_FORMAT];
  const dpkg = await runQuietly(engine, image, dpkgArgv);
  if (dpkg.exitCode === 0) return { ok: true, value: { manager: "dpkg", packages: parseDpkgQuery(dpkg.stdout) } };
  const apk = await runQuietly(engine, image, ["apk", "info", "-v"]);
  if (apk.exitCode === 0) return { ok: true, value: { manager: "apk", packages: parseApkInfo(apk.stdout) } };
  return { ok: false, detail: `neither dpkg nor apk answered: ${failure(["dpkg-query", "-W"], dpkg)}; ${failure(["apk", "info", "-v"], apk)}` };
}

// ---------------------------------------------------------------------------------------------
// Python

/** `python --version` → `3.11.2` (Python 2 printed it on stderr, so both streams are read). */
export async function pythonVersion(engine: Engine, image: BuiltImage): Promise<Probe<string>> {
  const argv = ["python", "--version"];
  const run = await runQuietly(engine, image, argv);
  const m = /^Python (\S+)/m.exec(`${run.stdout}\n${run.stderr}`);
  if (run.exitCode === 0 && m) return { ok: true, value: m[1] as string };
  return { ok: false, detail: failure(argv, run) };
}

/** `python -m pip --version` → `23.0.1`. */
export async function pipVersion(engine: Engine, image: BuiltImage): Promise<Probe<string>> {
  const argv = ["python", "-m", "pip", "--version", "--disable-pip-version-check"];
  const run = await runQuietly(engine, image, argv);
  const m = /^pip (\S+)/m.exec(run.stdout);
  if (run.exitCode === 0 && m) return { ok: true, value: m[1] as string };
  return { ok: false, detail: failure(argv, run) };
}

/** PEP 503 name normalisation: `Airbyte_CDK` and `airbyte.cdk` are `airbyte-cdk`. */
export function normalizeDistributionName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/** An installed Python distribution. */
export interface PythonDistribution {
  /** Its name as its metadata spells it. */
  readonly name: string;
  readonly version: string;
}

function parseDistributionList(stdout: string): Record<string, PythonDistribution> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout.trim());
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  const out: Record<string, PythonDistribution> = {};
  for (const entry of parsed as Array<{ name?: unknown; version?: unknown }>) {
    if (typeof entry?.name !== "string") continue;
    out[normalizeDistributionName(entry.name)] = { name: entry.name, version: typeof entry.version === "string" ? entry.version : "" };
  }
  return out;
}

const IMPORTLIB_LIST = [
  "import json, importlib.metadata as m",
  "print(json.dumps([{'name': d.metadata['Name'], 'version': d.version} for d in m.distributions() if d.metadata['Name']]))",
].join("\n");

/**
 * Installed Python distributions, keyed by normalised name: `python -m pip list --format=json`,
 * else (no pip) `importlib.metadata` (Python ≥ 3.8).
 */
export async function listPythonDistributions(engine: Engine, image: BuiltImage): Promise<Probe<Record<string, PythonDistribution>>> {
  const pipArgv = ["python", "-m", "pip", "list", "--format=json", "--disable-pip-version-check"];
  const pip = await runQuietly(engine, image, pipArgv);
  const fromPip = pip.exitCode === 0 ? parseDistributionList(pip.stdout) : undefined;
  if (fromPip) return { ok: true, value: fromPip };
  const argv = ["python", "-c", IMPORTLIB_LIST];
  const meta = await runQuietly(engine, image, argv);
  const fromMeta = meta.exitCode === 0 ? parseDistributionList(meta.stdout) : undefined;
  if (fromMeta) return { ok: true, value: fromMeta };
  return { ok: false, detail: `${failure(pipArgv, pip)}; ${failure(["python", "-c", "importlib.metadata…"], meta)}` };
}

// ---------------------------------------------------------------------------------------------
// spec

/**
 * Runs `spec` through the entrypoint and returns the first JSON line whose `type` is `SPEC` (the
 * Airbyte protocol message, parsed), as the build's verification reads it.
 */
export async function readSpec(engine: Engine, image: BuiltImage): Promise<Probe<Record<string, unknown>>> {
  const run = await runQuietly(engine, image, ["spec"], { useEntrypoint: true });
  const message = findSpecMessage(run.stdout);
  if (message) return { ok: true, value: message };
  return { ok: false, detail: `spec through the entrypoint printed no JSON line with "type": "SPEC" (${failure(["spec"], run)})` };
}

/** The first line of `stdout` that is a JSON Airbyte message of type `SPEC`, parsed; log lines are skipped. */
export function findSpecMessage(stdout: string): Record<string, unknown> | undefined {
  for (const line of stdout.split("\n")) {
    const trimmed = line.trim();
    if (!trimmed.startsWith("{")) continue;
    try {
      const message = JSON.parse(trimmed) as Record<string, unknown>;
      if (message.type === "SPEC") return message;
    } catch {
      // a log line that is not JSON: keep looking
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Snapshot

/** Everything read from one image. */
export interface ImageSnapshot {
  readonly resolved: ResolvedImage;
  readonly config: ImageRunConfig;
  readonly env: Probe<Record<string, string>>;
  readonly python: Probe<string>;
  readonly pip: Probe<string>;
  readonly systemPackages: Probe<SystemPackages>;
  readonly pythonDistributions: Probe<Record<string, PythonDistribution>>;
  readonly spec: Probe<Record<string, unknown>>;
}

/** Reads every aspect of an image (the probes run concurrently). */
export async function snapshotImage(engine: Engine, resolved: ResolvedImage): Promise<ImageSnapshot> {
  const { image } = resolved;
  const [config, env, python, pip, systemPackages, pythonDistributions, spec] = await Promise.all([
    engine.inspect(image),
    readRuntimeEnv(engine, image),
    pythonVersion(engine, image),
    pipVersion(engine, image),
    listSystemPackages(engine, image),
    listPythonDistributions(engine, image),
    readSpec(engine, image),
  ]);
  return { resolved, config, env, python, pip, systemPackages, pythonDistributions, spec };
}
