/**
 * The Python side of a lock: which artifact (wheel, else sdist) of each locked package a platform
 * installs, read from a PEP 503/691 simple index, and the download of those artifacts.
 *
 * The target's environment (its ordered compatible wheel tags, its environment markers) is asked
 * of the base image's own Python (pip's vendored `packaging`), run through the engine, so the
 * choice is the one pip would make in the image, per platform, without guessing from the host.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BuiltImage, Engine } from "../engines/engine.ts";
import { ConnectorBuildError, lastLines } from "../errors.ts";
import { canonicalName } from "../connector/poetry-lock.ts";

/** One requirement line of `lockedRequirements`, split. */
export interface LockedRequirement {
  readonly name: string;
  readonly version: string;
  /** PEP 508 marker, when conditional. */
  readonly marker?: string;
  /** Allowed `sha256:` hashes (every file poetry locked). */
  readonly hashes: readonly string[];
}

/** `name==version ; marker --hash=sha256:… …` → its parts. */
export function parseRequirementLine(line: string): LockedRequirement {
  const m = /^(\S+?)==(\S+?)(?: ; (.*?))?((?: --hash=\S+)+)$/.exec(line);
  if (!m) throw new ConnectorBuildError("INVALID_CONNECTOR", `cannot read the locked requirement '${line}': expected name==version [; marker] --hash=sha256:…`);
  return {
    name: m[1] as string,
    version: m[2] as string,
    ...(m[3] !== undefined ? { marker: m[3] } : {}),
    hashes: (m[4] as string).trim().split(/\s+/).map((h) => h.replace(/^--hash=/, "")),
  };
}

/** What the target image's Python says about itself. */
export interface PythonEnvironment {
  readonly pythonVersion: string;
  /** Compatible wheel tags, most preferred first (`cp311-cp311-manylinux_2_36_x86_64`, …, `py3-none-any`). */
  readonly tags: readonly string[];
  /** For each marker asked, whether it holds in the image. */
  readonly applies: readonly boolean[];
}

const ENVIRONMENT_SCRIPT = `
import json, sys
from pip._vendor.packaging import markers, tags
asked = json.loads(sys.argv[1])
out = {
    "pythonVersion": markers.default_environment()["python_full_version"],
    "tags": [str(t) for t in tags.sys_tags()],
    "applies": [m is None or markers.Marker(m).evaluate({"extra": ""}) for m in asked],
}
print(json.dumps(out))
`;

/** Asks the image's Python for its wheel tags and evaluates `markers` there. */
export async function pythonEnvironment(engine: Engine, image: BuiltImage, markers: ReadonlyArray<string | undefined>): Promise<PythonEnvironment> {
  const run = await engine.run(image, ["python", "-c", ENVIRONMENT_SCRIPT, JSON.stringify(markers.map((m) => m ?? null))]);
  if (run.exitCode !== 0) {
    throw new ConnectorBuildError("RUN_FAILED", `cannot read the Python environment of ${image.ref} (${image.platform}): python exited with ${run.exitCode}: ${lastLines(run.stderr, 5)}`);
  }
  return JSON.parse(run.stdout) as PythonEnvironment;
}

const CHOOSE_VERSIONS_SCRIPT = `
import json, sys
from pip._vendor.packaging.requirements import Requirement
from pip._vendor.packaging.version import Version
asked = json.loads(sys.argv[1])
out = []
for requirement, versions in asked:
    req = Requirement(requirement)
    matching = sorted(req.specifier.filter(versions), key=Version)
    out.append(matching[-1] if matching else None)
print(json.dumps(out))
`;

/**
 * For each requirement (`poetry-core>=1.0.0`) and its available versions, the highest version the
 * specifier allows, as the image's pip reads PEP 440 (null when none does).
 */
export async function chooseVersions(engine: Engine, image: BuiltImage, asked: ReadonlyArray<readonly [string, readonly string[]]>): Promise<Array<string | null>> {
  const run = await engine.run(image, ["python", "-c", CHOOSE_VERSIONS_SCRIPT, JSON.stringify(asked)]);
  if (run.exitCode !== 0) throw new ConnectorBuildError("RUN_FAILED", `cannot match versions in ${image.ref} (${image.platform}): ${lastLines(run.stderr, 5)}`);
  return JSON.parse(run.stdout) as Array<string | null>;
}

/** The version in a wheel or sdist file name (`poetry_core-1.9.0-py3-none-any.whl` → `1.9.0`). */
export function artifactVersion(filename: string): string | undefined {
  if (filename.endsWith(".whl")) return filename.split("-")[1];
  const m = /^(.+)-([0-9][^-]*)\.(tar\.gz|zip)$/.exec(filename);
  return m?.[2];
}

/** One file of a package in a simple index. */
export interface IndexFile {
  readonly filename: string;
  readonly url: string;
  readonly sha256?: string;
  readonly size?: number;
}

/** The tags a wheel file name declares, expanded (`py2.py3-none-any` → `py2-none-any`, `py3-none-any`). */
export function wheelTags(filename: string): string[] | undefined {
  const m = /^(.+?)-(.+?)(?:-(\d[^-]*))?-([^-]+)-([^-]+)-([^-]+)\.whl$/.exec(filename);
  if (!m) return undefined;
  const [pythons, abis, platforms] = [m[4], m[5], m[6]].map((part) => (part as string).split(".")) as [string[], string[], string[]];
  return pythons.flatMap((py) => abis.flatMap((abi) => platforms.map((platform) => `${py}-${abi}-${platform}`)));
}

/**
 * The artifact a platform installs for one locked package: the wheel whose best tag ranks first in
 * the image's tag list, among the files whose sha256 the lock allows; an sdist only when no wheel fits.
 */
export function chooseArtifact(requirement: LockedRequirement, files: readonly IndexFile[], tags: readonly string[]): IndexFile & { kind: "wheel" | "sdist" } {
  const allowed = new Set(requirement.hashes.map((h) => h.replace(/^sha256:/, "")));
  const rank = new Map(tags.map((t, i) => [t, i]));
  let best: { file: IndexFile; rank: number } | undefined;
  let sdist: IndexFile | undefined;
  const candidates = files.filter((f) => f.sha256 !== undefined && allowed.has(f.sha256));
  for (const file of candidates) {
    const declared = wheelTags(file.filename);
    if (declared === undefined) {
      if (/\.(tar\.gz|zip)$/.test(file.filename)) sdist ??= file;
      continue;
    }
    const r = Math.min(...declared.map((t) => rank.get(t) ?? Number.POSITIVE_INFINITY));
    if (Number.isFinite(r) && (best === undefined || r < best.rank)) best = { file, rank: r };
  }
  if (best !== undefined) return { ...best.file, kind: "wheel" };
  if (sdist !== undefined) return { ...sdist, kind: "sdist" };
  throw new ConnectorBuildError(
    "INVALID_CONNECTOR",
    `${requirement.name} ${requirement.version}: none of its ${candidates.length} locked file(s) installs on this platform (best tags ${tags.slice(0, 3).join(", ")}…) and it has no sdist: expected a lock with a compatible wheel`,
  );
}

/**
 * Basic credentials of index hosts, from index URLs given as `https://user:password@host/simple`.
 * Node's fetch refuses a URL with credentials: they are taken out of every URL (so no lock file or
 * message ever holds them) and sent as an Authorization header to that host (origin) only.
 */
const indexCredentials = new Map<string, string>();

/** `url` without its credentials (remembered for its origin), and the headers that authenticate it. */
function authenticated(raw: string): { url: string; headers: Record<string, string> } {
  const url = new URL(raw);
  if (url.username !== "" || url.password !== "") {
    const basic = Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString("base64");
    indexCredentials.set(url.origin, `Basic ${basic}`);
    url.username = "";
    url.password = "";
  }
  const authorization = indexCredentials.get(url.origin);
  return { url: url.toString(), headers: authorization !== undefined ? { authorization } : {} };
}

/** Reads a package's files from a simple index (PEP 691 JSON, else PEP 503 HTML). */
export async function indexFiles(indexUrl: string, name: string): Promise<IndexFile[]> {
  const { url, headers } = authenticated(`${indexUrl.replace(/\/+$/, "")}/${canonicalName(name)}/`);
  let res: Response;
  try {
    res = await fetch(url, { headers: { ...headers, accept: "application/vnd.pypi.simple.v1+json, text/html;q=0.1" }, signal: AbortSignal.timeout(60_000) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const tls = /CERT|certificate/i.test(`${cause?.code} ${cause?.message}`);
    throw new ConnectorBuildError(
      "REGISTRY_ERROR",
      `cannot read ${url}: ${cause?.message ?? (error as Error).message}${tls ? " (a TLS-intercepting proxy? set NODE_EXTRA_CA_CERTS to its CA bundle, e.g. /etc/ssl/certs/ca-certificates.crt)" : ""}: expected a PEP 503 simple index`,
      { cause: error },
    );
  }
  if (res.status !== 200) throw new ConnectorBuildError("REGISTRY_ERROR", `cannot read ${url}: ${res.status} ${res.statusText}: expected the package's page of a simple index`);
  const type = res.headers.get("content-type") ?? "";
  if (type.includes("json")) {
    const body = (await res.json()) as { files: Array<{ filename: string; url: string; hashes?: Record<string, string>; size?: number }> };
    return body.files.map((f) => ({
      filename: f.filename,
      url: new URL(f.url, url).toString(),
      ...(f.hashes?.sha256 !== undefined ? { sha256: f.hashes.sha256 } : {}),
      ...(f.size !== undefined ? { size: f.size } : {}),
    }));
  }
  const html = await res.text();
  const files: IndexFile[] = [];
  for (const m of html.matchAll(/<a\s[^>]*href="([^"]+)"[^>]*>([^<]+)<\/a>/gi)) {
    const href = (m[1] as string).replace(/&amp;/g, "&");
    const absolute = new URL(href, url);
    const sha256 = /sha256=([0-9a-f]{64})/.exec(absolute.hash)?.[1];
    absolute.hash = "";
    files.push({ filename: (m[2] as string).trim(), url: absolute.toString(), ...(sha256 !== undefined ? { sha256 } : {}) });
  }
  return files;
}

/** Downloads `url` to `dir/filename` unless a file with that sha256 is there; verifies the hash. Returns true when it downloaded. */
export async function downloadArtifact(dir: string, artifact: { filename: string; url: string; sha256: string }): Promise<boolean> {
  const target = join(dir, artifact.filename);
  if (existsSync(target) && createHash("sha256").update(readFileSync(target)).digest("hex") === artifact.sha256) return false;
  mkdirSync(dir, { recursive: true });
  let res: Response;
  try {
    const { url, headers } = authenticated(artifact.url);
    res = await fetch(url, { headers, signal: AbortSignal.timeout(600_000) });
  } catch (error) {
    throw new ConnectorBuildError("REGISTRY_ERROR", `cannot download ${artifact.url}: ${(error as { cause?: Error }).cause?.message ?? (error as Error).message}`, { cause: error });
  }
  if (res.status !== 200) throw new ConnectorBuildError("REGISTRY_ERROR", `cannot download ${artifact.url}: ${res.status} ${res.statusText}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const sha = createHash("sha256").update(bytes).digest("hex");
  if (sha !== artifact.sha256) {
    throw new ConnectorBuildError("REGISTRY_ERROR", `${artifact.url} hashes to sha256:${sha}: expected sha256:${artifact.sha256}, the locked hash; nothing was written`);
  }
  const partial = `${target}.${process.pid}.partial`;
  writeFileSync(partial, bytes);
  renameSync(partial, target);
  rmSync(partial, { force: true });
  return true;
}
