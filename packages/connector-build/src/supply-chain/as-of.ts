/**
 * Resolving a connector's dependencies "as of" a date: what its setup.py, requirements.txt or
 * pyproject.toml (without poetry.lock) would have installed on that date, for one Python version and
 * one platform. The resolver is uv (`uv pip compile --exclude-newer`), a maintained resolver that
 * reads the upload time of each file from a PEP 691/700 JSON simple index; this module only frames
 * its inputs and reads its answer. An index that does not give upload times cannot answer "as of",
 * so it is refused by name before any resolution.
 */
import { cpSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import type { BuiltImage, Engine } from "../engines/engine.ts";
import { ConnectorBuildError, lastLines } from "../errors.ts";
import { redactUrl } from "../connector/pip-index.ts";
import { runProcess } from "../shared/process.ts";
import type { LockedRequirement } from "./python-index.ts";

/** The uv release this toolkit resolves with (the development environment installs it at {@link UV_DEFAULT_PATH}). */
export const UV_VERSION = "0.13.9";
/** Where the development environment installs {@link UV_VERSION} (its own virtual environment). */
export const UV_DEFAULT_PATH = `/opt/airbyte-ci/uv-${UV_VERSION}/bin/uv`;

/** A parsed `--as-of`: a fixed instant, or "the date of each connector's last commit". */
export type AsOfSpec = { readonly kind: "git" } | { readonly kind: "instant"; readonly asOf: string; readonly excludeNewer: string; readonly source?: "date" | "git" };

/** What one connector is resolved as of. */
export interface AsOf {
  /** As given (`2023-09-09`), or the commit's timestamp for `git`. */
  readonly asOf: string;
  /** The RFC 3339 instant handed to the resolver: files uploaded at or after it do not exist. */
  readonly excludeNewer: string;
  readonly source: "date" | "git";
}

/**
 * Reads `--as-of`: `git`, a date (`2023-09-09`: as the index stood at the end of that day, UTC) or
 * an RFC 3339 instant (`2023-09-09T12:00:00Z`).
 */
export function parseAsOf(value: string, option = "--as-of"): AsOfSpec {
  const v = value.trim();
  if (v === "git") return { kind: "git" };
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) {
    const day = new Date(`${v}T00:00:00Z`);
    if (!Number.isNaN(day.getTime()) && day.toISOString().startsWith(v)) {
      return { kind: "instant", asOf: v, excludeNewer: new Date(day.getTime() + 86_400_000).toISOString().replace(/\.000Z$/, "Z") };
    }
  } else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(v)) {
    const instant = new Date(v);
    if (!Number.isNaN(instant.getTime())) return { kind: "instant", asOf: v, excludeNewer: instant.toISOString().replace(/\.000Z$/, "Z") };
  }
  throw new ConnectorBuildError("USAGE", `${option} '${value}': expected a date (YYYY-MM-DD, e.g. 2023-09-09), an RFC 3339 instant (2023-09-09T12:00:00Z) or 'git' (the date of each connector's last commit)`);
}

/** The instant a connector is resolved as of: the spec's, or its folder's last commit. */
export async function asOfFor(dir: string, spec: AsOfSpec): Promise<AsOf> {
  if (spec.kind === "instant") return { asOf: spec.asOf, excludeNewer: spec.excludeNewer, source: spec.source ?? "date" };
  const log = await runProcess("git", ["-C", dir, "log", "-1", "--format=%cI", "--", "."]);
  const stamp = log.stdout.trim();
  if (log.exitCode !== 0 || stamp === "") {
    throw new ConnectorBuildError("USAGE", `--as-of git: ${dir} has no commit in a git repository${log.stderr.trim() ? ` (${log.stderr.trim().split("\n")[0]})` : ""}: expected a connector folder tracked by git, or pass --as-of <YYYY-MM-DD>`);
  }
  return { asOf: stamp, excludeNewer: new Date(stamp).toISOString().replace(/\.000Z$/, "Z"), source: "git" };
}

/** The uv to resolve with: `explicit`, else {@link UV_DEFAULT_PATH}, else `uv` on PATH. */
export function findUv(explicit?: string): string {
  if (explicit !== undefined) {
    if (existsSync(explicit) && statSync(explicit).isFile()) return explicit;
    throw new ConnectorBuildError("USAGE", `--uv ${explicit} is not a file: expected the path of a uv executable`);
  }
  if (existsSync(UV_DEFAULT_PATH)) return UV_DEFAULT_PATH;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(dir, "uv");
    if (dir !== "" && existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  throw new ConnectorBuildError(
    "RESOLVER_UNAVAILABLE",
    `--as-of resolves with uv, which is not installed: expected ${UV_DEFAULT_PATH} (a virtual environment with uv==${UV_VERSION}), uv on PATH (pip install uv==${UV_VERSION}), or --uv <path>`,
  );
}

/**
 * Refuses an index that gives no upload times (PEP 700 `upload-time` in its JSON pages): uv would
 * have no date to compare with, and the resolution would not be "as of" anything.
 */
export async function checkUploadTimes(indexUrl: string, probe = "pip"): Promise<void> {
  const url = `${indexUrl.replace(/\/+$/, "")}/${probe}/`;
  const shown = redactUrl(indexUrl);
  let body: { files?: Array<{ "upload-time"?: unknown }> } | undefined;
  try {
    const res = await fetch(url, { headers: { accept: "application/vnd.pypi.simple.v1+json" }, signal: AbortSignal.timeout(60_000) });
    if (res.status !== 200) throw new Error(`${res.status} ${res.statusText}`);
    if ((res.headers.get("content-type") ?? "").includes("json")) body = (await res.json()) as typeof body;
  } catch (error) {
    const cause = (error as { cause?: Error }).cause?.message;
    throw new ConnectorBuildError("REGISTRY_ERROR", `cannot read ${redactUrl(url)} to check that the index ${shown} gives upload times: ${cause ?? (error as Error).message}`, { cause: error });
  }
  const files = body?.files ?? [];
  if (files.length === 0 || !files.some((f) => typeof f["upload-time"] === "string")) {
    throw new ConnectorBuildError(
      "USAGE",
      `the index ${shown} gives no upload times (its ${probe} page has ${body === undefined ? "no JSON (PEP 691)" : "no PEP 700 upload-time"}): --as-of cannot tell what it held on a date; expected an index that records upload times, e.g. --index-url https://pypi.org/simple`,
    );
  }
}

/** The dependency manifest uv resolves for a connector, or undefined when it has none (or a poetry.lock, which pins already). */
export function asOfInput(dir: string): "requirements.txt" | "setup.py" | "pyproject.toml" | undefined {
  if (existsSync(join(dir, "requirements.txt"))) return "requirements.txt";
  if (existsSync(join(dir, "setup.py"))) return "setup.py";
  if (existsSync(join(dir, "pyproject.toml")) && !existsSync(join(dir, "poetry.lock"))) return "pyproject.toml";
  return undefined;
}

/** uv's `--python-platform` for a platform and the image's newest manylinux tag (`manylinux_2_36_x86_64`). */
export function uvPlatform(platform: string, tags: readonly string[]): string {
  const arch = platform === "linux/arm64" ? "aarch64" : platform === "linux/amd64" ? "x86_64" : undefined;
  if (arch === undefined) throw new ConnectorBuildError("USAGE", `--as-of resolves for linux/amd64 and linux/arm64 only, not ${platform}`);
  const glibc = Math.max(0, ...tags.flatMap((t) => /manylinux_2_(\d+)_/.exec(t)?.[1] ?? []).map(Number));
  // uv knows manylinux_2_17, _2_28 and _2_31 to _2_40.
  const known = [40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 28, 17].find((n) => n <= glibc) ?? 17;
  return `${arch}-manylinux_2_${known}`;
}

/** What {@link resolveAsOf} needs. */
export interface ResolveAsOfOptions {
  readonly uv: string;
  readonly connector: string;
  readonly dir: string;
  readonly input: "requirements.txt" | "setup.py" | "pyproject.toml" | "requirements.in";
  /** Python version to resolve for (`3.9.2`, `3.11`). */
  readonly pythonVersion: string;
  readonly platform: string;
  /** The image's compatible tags (its newest manylinux tag sets the platform). */
  readonly tags: readonly string[];
  readonly asOf: AsOf;
  readonly indexUrl: string;
  /** CA bundle the resolver trusts (besides the system's). */
  readonly caBundle?: string;
  /** Accept yanked versions that a requirement pins exactly (`==`). */
  readonly allowYanked?: boolean;
}

/** One resolution: the pins with every hash uv allows, and the yanked pins accepted. */
export interface AsOfResolution {
  readonly requirements: LockedRequirement[];
  readonly yanked: string[];
}

const YANKED_PIN = /depends on ([A-Za-z0-9._-]+)==([^\s,;]+)/;

function resolutionError(options: ResolveAsOfOptions, reasons: readonly string[]): ConnectorBuildError {
  return new ConnectorBuildError(
    "RESOLUTION_FAILED",
    `connector ${options.connector}: cannot resolve ${options.input} as of ${options.asOf.asOf} for Python ${options.pythonVersion} on ${options.platform}:\n  ${reasons.join("\n  ")}`,
  );
}

/** The reasons in uv's failure output, one line each (package, version and why are in uv's words). */
export function uvFailureReasons(stderr: string): string[] {
  const lines = stderr.split("\n").filter((l) => !/^warning: The requested Python version/.test(l));
  const text = lines.join("\n");
  const start = text.search(/^(error| {2}× | {2}╰─▶)/m);
  const body = (start >= 0 ? text.slice(start) : text)
    .split("\n")
    .map((l) => l.replace(/^\s*(error:|cause:|[×╰─▶]+)\s*/, "").trim())
    .filter((l) => l !== "" && !/^hint: /.test(l));
  return body.length > 0 ? body.slice(0, 8) : ["uv failed without a message"];
}

async function compile(options: ResolveAsOfOptions, work: string, constraints: readonly string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const args = ["pip", "compile", options.input, "--exclude-newer", options.asOf.excludeNewer, "--python-version", options.pythonVersion];
  args.push("--python-platform", uvPlatform(options.platform, options.tags), "--generate-hashes", "--no-header", "--no-annotate", "--index-url", options.indexUrl);
  args.push("--system-certs", "--no-config");
  if (constraints.length > 0) {
    writeFileSync(join(work, "connector-build-yanked.txt"), `${constraints.join("\n")}\n`);
    args.push("--constraint", "connector-build-yanked.txt");
  }
  const env: NodeJS.ProcessEnv = { ...process.env, UV_PYTHON_DOWNLOADS: "never", UV_NO_PROGRESS: "1" };
  if (options.caBundle !== undefined) env.SSL_CERT_FILE = options.caBundle;
  return runProcess(options.uv, args, { cwd: work, env });
}

/** `name==version \ --hash=…` blocks of uv's output → requirements; local paths (`-e .`, the connector itself) dropped. */
export function parseCompiled(stdout: string): LockedRequirement[] {
  const joined = stdout.replace(/\\\n\s*/g, " ");
  const out: LockedRequirement[] = [];
  for (const raw of joined.split("\n")) {
    const line = raw.replace(/\s+#.*$/, "").trim();
    if (line === "" || line.startsWith("#") || line.startsWith("-e ") || line.startsWith("--")) continue;
    const m = /^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==(\S+)((?:\s+--hash=sha256:[0-9a-f]{64})*)$/.exec(line);
    if (!m) {
      if (/ @ file:|^\.|^\//.test(line)) continue;
      throw new ConnectorBuildError("RESOLUTION_FAILED", `cannot read uv's resolved line '${line}': expected name==version --hash=sha256:…`);
    }
    out.push({ name: (m[1] as string).toLowerCase().replace(/[-_.]+/g, "-"), version: m[2] as string, hashes: (m[3] ?? "").trim().split(/\s+/).filter(Boolean).map((h) => h.replace(/^--hash=/, "")) });
  }
  return out;
}

/**
 * Resolves one connector's input as of a date for one Python and platform (in a copy of the
 * folder: building setup.py's metadata writes beside it). A yanked version a requirement pins
 * exactly fails with the package, the version and the index's reason, unless `allowYanked`, which
 * accepts it (and only it) by constraining to that exact pin.
 */
export async function resolveAsOf(options: ResolveAsOfOptions): Promise<AsOfResolution> {
  const work = mkdtempSync(join(tmpdir(), "airbyte-ci-as-of-"));
  try {
    const copy = join(work, "connector");
    cpSync(options.dir, copy, { recursive: true, filter: (src) => !/(^|\/)(\.git|\.venv|__pycache__|connector-build\.lock)$/.test(src) });
    const yanked: string[] = [];
    for (;;) {
      const run = await compile(options, copy, yanked);
      if (run.exitCode === 0) {
        const warned = [...run.stderr.matchAll(/`([A-Za-z0-9._-]+==[^`]+)` is yanked(?: \(reason: "([^"]*)"\))?/g)];
        const refused = warned.filter((w) => !yanked.includes(w[1] as string));
        if (refused.length > 0 && !options.allowYanked) {
          throw resolutionError(options, refused.map((w) => `${w[1]} is yanked (${w[2] ?? "no reason given"}) and the inputs pin it exactly: pass --allow-yanked to accept it`));
        }
        return { requirements: parseCompiled(run.stdout), yanked: [...yanked, ...refused.map((w) => w[1] as string)].sort() };
      }
      const reasons = uvFailureReasons(run.stderr);
      const yankedPins = reasons.flatMap((r) => {
        if (!/was yanked/.test(r)) return [];
        const m = YANKED_PIN.exec(r);
        return m ? [`${m[1]}==${m[2]}`] : [];
      });
      const fresh = yankedPins.filter((p) => !yanked.includes(p));
      if (!options.allowYanked || fresh.length === 0) {
        // The package, the version and why first; uv's own derivation after.
        const summary = reasons.flatMap((r) => {
          const m = /([A-Za-z0-9._-]+)==(\S+) was yanked(?: \(reason: (.*?)\))? and (\S+) depends on \1==\2/.exec(r);
          return m ? [`${m[1]} ${m[2]}: yanked (${m[3] ?? "no reason given"}); ${m[4]} pins it exactly: --allow-yanked accepts it`] : [];
        });
        throw resolutionError(options, [...summary, ...reasons]);
      }
      yanked.push(...fresh);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const TARGET_TAGS_SCRIPT = `
import json, sys
from pip._vendor.packaging import tags
version = tuple(int(p) for p in sys.argv[1].split(".")[:2])
platforms = list(tags.platform_tags())
out = [str(t) for t in tags.cpython_tags(python_version=version, platforms=platforms)]
out += [str(t) for t in tags.compatible_tags(python_version=version, interpreter="cp%d%d" % version, platforms=platforms)]
print(json.dumps(out))
`;

/**
 * The wheel tags CPython `pythonVersion` (X.Y) would accept on the image's platform (its manylinux
 * level, its architecture), asked of the image's pip: resolving for the Python of another base
 * (3.9 for the production catalog) without that base at hand.
 */
export async function targetTags(engine: Engine, image: BuiltImage, pythonVersion: string): Promise<string[]> {
  const run = await engine.run(image, ["python", "-c", TARGET_TAGS_SCRIPT, pythonVersion]);
  if (run.exitCode !== 0) throw new ConnectorBuildError("RUN_FAILED", `cannot compute the wheel tags of Python ${pythonVersion} in ${image.ref} (${image.platform}): ${lastLines(run.stderr, 5)}`);
  return JSON.parse(run.stdout) as string[];
}

/** Reads `--python-version`: X.Y or X.Y.Z of CPython 3. */
export function parsePythonVersion(value: string): string {
  if (/^3\.\d{1,2}(\.\d{1,2})?$/.test(value.trim())) return value.trim();
  throw new ConnectorBuildError("USAGE", `--python-version '${value}': expected a CPython 3 version, e.g. 3.9 or 3.9.2`);
}
