/**
 * `connector-build lock`: resolves everything a connector's build reads from outside into
 * `connector-build.lock` ({@link ConnectorLock}), and optionally downloads the Python artifacts into
 * a wheelhouse for offline builds.
 *
 * Python artifacts come from the connector's poetry.lock (the main group, as `lockedRequirements`
 * walks it): per platform, the base image's own Python says which markers hold and which wheel tags
 * it accepts, and the simple index says which files exist; the best-ranked wheel whose sha256 the
 * poetry lock allows is chosen (an sdist only when no wheel fits). Without `asOf`, setup.py
 * dependencies are not resolved: a setup.py connector's lock pins its base and files, and its
 * offline install finds only what the wheelhouse holds. With `asOf`, setup.py, requirements.txt or
 * a pyproject.toml without poetry.lock is resolved with uv as the index had it on that date
 * (as-of.ts, as-of-lock.ts), per platform, and the same choice of artifact follows.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { ImageRecipe, type BaseImageCatalog, type Platform } from "@airbyte-ci/base-images";
import { lockedRequirements } from "../connector/poetry-lock.ts";
import { prepareConnector } from "../connector/python-build.ts";
import type { Engine } from "../engines/engine.ts";
import { ConnectorBuildError } from "../errors.ts";
import { RegistryClient } from "../registry/registry-client.ts";
import { lockInputs, writeLock, type ConnectorLock, type LockedArtifact } from "../connector/lock-file.ts";
import { runProcess } from "../shared/process.ts";
import { canonicalName } from "../connector/poetry-lock.ts";
import {
  artifactVersion,
  chooseArtifact,
  chooseVersions,
  downloadArtifact,
  indexFiles,
  parseRequirementLine,
  pythonEnvironment,
  wheelTags,
  type IndexFile,
} from "./python-index.ts";
import { resolvePublishedBase } from "../connector/published-base.ts";
import { asOfFor, asOfInput, checkUploadTimes, findUv, type AsOfSpec } from "./as-of.ts";
import { asOfBuildArtifacts, asOfPlatform, resolutionRecord, type AsOfContext } from "./as-of-lock.ts";

/**
 * The `[build-system] requires` of an sdist (downloaded to `dir`, hash-checked): what pip needs to
 * build it. An sdist without pyproject.toml is a setup.py one: the base image's setuptools and
 * wheel build it, nothing to lock.
 */
async function sdistBuildRequires(dir: string, artifact: LockedArtifact): Promise<string[]> {
  await downloadArtifact(dir, { ...artifact, sha256: artifact.sha256.slice(7) });
  const file = join(dir, artifact.filename);
  if (!artifact.filename.endsWith(".tar.gz")) return [];
  const list = await runProcess("tar", ["-tzf", file]);
  const top = list.stdout.split("\n")[0]?.split("/")[0];
  if (list.exitCode !== 0 || top === undefined) throw new ConnectorBuildError("INVALID_CONNECTOR", `${artifact.filename}: not a readable sdist: ${list.stderr.trim()}`);
  const pyproject = await runProcess("tar", ["-xzOf", file, `${top}/pyproject.toml`]);
  if (pyproject.exitCode !== 0) return [];
  const buildSystem = (parseToml(pyproject.stdout) as { "build-system"?: { requires?: unknown } })["build-system"];
  return Array.isArray(buildSystem?.requires) ? (buildSystem.requires as unknown[]).filter((r): r is string => typeof r === "string") : [];
}

/** The default simple index. */
export const DEFAULT_INDEX_URL = "https://pypi.org/simple";

/** Options of {@link lockConnectors}. */
export interface LockOptions {
  readonly engine: Engine;
  readonly catalog: BaseImageCatalog;
  /** Platforms to lock. Default: every platform of each connector's base image. */
  readonly platforms?: readonly Platform[];
  /** Simple index to resolve files from. Default: {@link DEFAULT_INDEX_URL}. */
  readonly indexUrl?: string;
  /** Download every locked artifact here (hash-checked). */
  readonly wheelhouse?: string;
  readonly registry?: RegistryClient;
  readonly log?: (line: string) => void;
  /** Resolve setup.py / requirements.txt / pyproject.toml (without poetry.lock) as of this date, with uv. */
  readonly asOf?: AsOfSpec;
  /** With `asOf`: resolve for this Python (X.Y[.Z]) instead of the base image's. */
  readonly pythonVersion?: string;
  /** With `asOf`: accept yanked versions pinned exactly. */
  readonly allowYanked?: boolean;
  /** With `asOf`: the uv executable. Default: {@link findUv}. */
  readonly uv?: string;
  /** A CA bundle the resolver trusts (e.g. a corporate TLS proxy's). */
  readonly caBundle?: string;
}

/** What {@link lockConnectors} did for one connector. */
export interface LockResult {
  readonly connector: string;
  readonly path: string;
  readonly lock: ConnectorLock;
  /** Artifacts downloaded into the wheelhouse (already present ones not counted). */
  readonly downloaded: number;
}

/** Locks each connector (every one is read and checked before any lock is written). */
export async function lockConnectors(dirs: readonly string[], options: LockOptions): Promise<LockResult[]> {
  if (dirs.length === 0) throw new ConnectorBuildError("USAGE", "lock: no connector given: expected connector-build lock <connector-dir>...");
  const log = options.log ?? (() => {});
  const client = options.registry ?? new RegistryClient();
  const indexUrl = options.indexUrl ?? DEFAULT_INDEX_URL;
  const filesCache = new Map<string, Promise<IndexFile[]>>();
  const filesOf = (name: string) => {
    let files = filesCache.get(name);
    if (!files) {
      files = indexFiles(indexUrl, name);
      filesCache.set(name, files);
    }
    return files;
  };
  const locks: Array<{ dir: string; lock: ConnectorLock }> = [];
  // As of a date: uv is there and the index gives upload times, checked before any work.
  const uv = options.asOf !== undefined ? findUv(options.uv) : undefined;
  if (options.asOf !== undefined) await checkUploadTimes(indexUrl);
  // sdists are downloaded (hash-checked) to read their build requirements; into the wheelhouse when there is one.
  if (options.wheelhouse !== undefined) mkdirSync(options.wheelhouse, { recursive: true });
  const sdistDir = options.wheelhouse ?? mkdtempSync(join(tmpdir(), "airbyte-ci-sdists-"));
  try {
  for (const dir of dirs) {
    const prepared = await prepareConnector(dir, options.catalog);
    const { metadata, baseImage } = prepared;
    const address = baseImage.publishedAddress as string;
    const platforms = options.platforms ?? baseImage.platforms;
    const pyproject = join(metadata.dir, "pyproject.toml");
    const poetryLock = join(metadata.dir, "poetry.lock");
    const requirements =
      existsSync(pyproject) && existsSync(poetryLock)
        ? lockedRequirements(readFileSync(pyproject, "utf8"), readFileSync(poetryLock, "utf8"), { pyproject, lock: poetryLock }).lines.map(parseRequirementLine)
        : [];
    const input = options.asOf !== undefined ? asOfInput(metadata.dir) : undefined;
    const asOf = options.asOf !== undefined && uv !== undefined && input !== undefined
      ? ({ uv, connector: metadata.technicalName, dir: metadata.dir, input, asOf: await asOfFor(metadata.dir, options.asOf), indexUrl, ...(options.caBundle !== undefined ? { caBundle: options.caBundle } : {}), ...(options.allowYanked ? { allowYanked: true } : {}), ...(options.pythonVersion !== undefined ? { pythonVersion: options.pythonVersion } : {}) } satisfies AsOfContext)
      : undefined;
    const yanked: string[] = [];
    if (asOf === undefined && existsSync(join(metadata.dir, "requirements.txt"))) {
      throw new ConnectorBuildError("INVALID_CONNECTOR", `connector ${metadata.technicalName}: lock does not resolve requirements.txt: expected a poetry project (pyproject.toml + poetry.lock) or setup.py`);
    }
    // The base as its registry holds it, with a manifest for every platform (BASE_IMAGE_UNPUBLISHED otherwise).
    const published = await resolvePublishedBase(baseImage, platforms, { client });
    const lockPlatforms: ConnectorLock["platforms"] = {};
    for (const platform of platforms) {
      const manifest = { digest: published.platformDigests[platform] as string };
      log(`${metadata.technicalName}: ${platform}: asking the base image's Python for its wheel tags and markers`);
      const image = await options.engine.build({ recipe: ImageRecipe.empty().from(`${address.split("@")[0]}@${manifest.digest}`), platform });
      const resolved = asOf !== undefined ? await asOfPlatform(asOf, options.engine, image, platform, filesOf) : undefined;
      yanked.push(...(resolved?.yanked ?? []));
      const env = resolved !== undefined ? { pythonVersion: resolved.pythonVersion, tags: resolved.tags, applies: [] } : await pythonEnvironment(options.engine, image, requirements.map((r) => r.marker));
      const artifacts: LockedArtifact[] = [...(resolved?.artifacts ?? [])];
      for (const [i, requirement] of (resolved !== undefined ? [] : requirements).entries()) {
        if (!env.applies[i]) continue;
        const chosen = chooseArtifact(requirement, await filesOf(requirement.name), env.tags);
        artifacts.push({ name: requirement.name, version: requirement.version, kind: chosen.kind, filename: chosen.filename, url: chosen.url, sha256: `sha256:${chosen.sha256}` });
      }
      // sdists are built in the image: lock their build backends too (newest allowed wheel, as pip would pick).
      const buildRequires = new Set<string>();
      for (const sdist of artifacts.filter((a) => a.kind === "sdist")) for (const r of await sdistBuildRequires(sdistDir, sdist)) buildRequires.add(r);
      const buildArtifacts: LockedArtifact[] = resolved !== undefined && asOf !== undefined ? await asOfBuildArtifacts(asOf, { ...resolved, name: platform }, [...buildRequires], filesOf) : [];
      if (resolved === undefined && buildRequires.size > 0) {
        const asked: Array<[string, string[], IndexFile[]]> = [];
        for (const requirement of [...buildRequires].sort()) {
          const name = canonicalName(/^[A-Za-z0-9._-]+/.exec(requirement)?.[0] ?? requirement);
          const files = (await filesOf(name)).filter((f) => f.sha256 !== undefined && wheelTags(f.filename)?.some((t) => env.tags.includes(t)));
          asked.push([requirement, [...new Set(files.map((f) => artifactVersion(f.filename) as string))], files]);
        }
        const versions = await chooseVersions(options.engine, image, asked.map(([r, v]) => [r, v] as const));
        for (const [i, [requirement, , files]] of asked.entries()) {
          const version = versions[i];
          if (version === null || version === undefined) {
            throw new ConnectorBuildError("INVALID_CONNECTOR", `connector ${metadata.technicalName} (${platform}): no wheel of the build requirement '${requirement}' fits the base image: expected one in ${indexUrl}`);
          }
          const ofVersion = files.filter((f) => artifactVersion(f.filename) === version);
          const name = canonicalName(/^[A-Za-z0-9._-]+/.exec(requirement)?.[0] ?? requirement);
          const chosen = chooseArtifact({ name, version, hashes: ofVersion.map((f) => `sha256:${f.sha256}`) }, ofVersion, env.tags);
          buildArtifacts.push({ name, version, kind: chosen.kind, filename: chosen.filename, url: chosen.url, sha256: `sha256:${chosen.sha256}` });
        }
      }
      log(
        `${metadata.technicalName}: ${platform}: ${artifacts.length} artifact(s) (${artifacts.filter((a) => a.kind === "sdist").length} sdist)` +
          (buildArtifacts.length > 0 ? `, build requirements ${buildArtifacts.map((a) => `${a.name}==${a.version}`).join(", ")}` : ""),
      );
      lockPlatforms[platform] = { baseManifest: manifest.digest, pythonVersion: env.pythonVersion, artifacts, buildArtifacts };
    }
    locks.push({ dir: metadata.dir, lock: { lockVersion: 1, connector: metadata.technicalName, baseImage: metadata.baseImage as string, platforms: lockPlatforms, inputs: lockInputs(metadata.dir), ...(asOf !== undefined ? { resolution: resolutionRecord(asOf, yanked) } : {}) } });
  }
  } finally {
    if (options.wheelhouse === undefined) rmSync(sdistDir, { recursive: true, force: true });
  }
  const results: LockResult[] = [];
  for (const { dir, lock } of locks) {
    let downloaded = 0;
    if (options.wheelhouse !== undefined) {
      const seen = new Set<string>();
      for (const platform of Object.values(lock.platforms)) {
        for (const artifact of [...platform.artifacts, ...platform.buildArtifacts]) {
          if (seen.has(artifact.filename)) continue;
          seen.add(artifact.filename);
          if (await downloadArtifact(options.wheelhouse, { ...artifact, sha256: artifact.sha256.slice(7) })) downloaded++;
        }
      }
      log(`${lock.connector}: wheelhouse ${options.wheelhouse}: ${seen.size} artifact(s), ${downloaded} downloaded`);
    }
    results.push({ connector: lock.connector, path: writeLock(dir, lock), lock, downloaded });
  }
  return results;
}
