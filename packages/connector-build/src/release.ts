import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import semver from "semver";
import {
  SUPPORTED_PLATFORMS,
  parseCatalog,
  parseRootImage,
  formatImageAddress,
  type BaseImageCatalog,
  type BaseImageVersion,
  type BaseImageVersionData,
  type Platform,
} from "@airbyte-ci/base-images";
import { pipIndexSecrets, withPipIndex, type PipIndexOptions } from "./connector/pip-index.ts";
import { renderDockerfile } from "./engines/dockerfile.ts";
import type { BuiltImage, Engine } from "./engines/engine.ts";
import { ConnectorBuildError } from "./errors.ts";
import { writeFileAtomic } from "./fs-atomic.ts";
import { RegistryClient } from "./registry/registry-client.ts";
import { checkBaseImage, formatSanityReport, type SanityReport } from "./sanity-checks.ts";

/** Semver bumps a release can make. */
export type ReleaseBump = "major" | "minor" | "patch" | "prerelease";

/** What a release or publish did. */
export interface ReleaseResult {
  readonly version: string;
  readonly address: string;
  readonly digest: string;
  readonly platformDigests: Readonly<Partial<Record<Platform, string>>>;
  readonly report: SanityReport;
}

interface Log {
  (line: string): void;
}

/** Holds `<catalog>.lock` for the duration of a release: two releases on one catalog cannot interleave. */
export function lockCatalog(catalogPath: string): () => void {
  const lockPath = `${catalogPath}.lock`;
  const take = () => {
    const fd = openSync(lockPath, "wx");
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
  };
  try {
    take();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const pid = Number.parseInt(readFileSync(lockPath, "utf8"), 10);
    let alive = false;
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch {
        alive = false;
      }
    }
    if (alive) {
      throw new ConnectorBuildError(
        "RELEASE_REFUSED",
        `another release holds ${lockPath} (pid ${pid}): expected one release at a time on a catalog; wait for it to finish`,
      );
    }
    rmSync(lockPath, { force: true });
    take();
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    rmSync(lockPath, { force: true });
  };
}

/** The next version of a release: `prerelease` bumps an rc (1.1.0 → 1.1.1-rc.0, 1.1.1-rc.0 → 1.1.1-rc.1). */
export function nextVersion(catalog: BaseImageCatalog, bump: ReleaseBump): string {
  const latest = catalog.latest();
  if (!latest) throw new ConnectorBuildError("RELEASE_REFUSED", `the ${catalog.name} catalog has no version to release from: expected at least one recorded version`);
  const next = bump === "prerelease" ? semver.inc(latest.version, "prerelease", "rc") : semver.inc(latest.version, bump);
  if (!next) throw new ConnectorBuildError("RELEASE_REFUSED", `cannot bump ${latest.version} by ${bump}`);
  return next;
}

/**
 * The definition of the next version: the latest version's recipe, checks and root images, with
 * version-valued labels and checks following the new version, and root images replaced where given.
 */
export function deriveVersion(
  from: BaseImageVersion,
  version: string,
  changelog: string,
  rootImages: Partial<Record<Platform, string>> = {},
): BaseImageVersionData {
  const old = from.version;
  const recipe = from.data.recipe.map((op) => (op.op === "withLabel" && op.value === old ? { ...op, value: version } : op));
  const sanityChecks = from.data.sanityChecks.map((c) => (c.kind === "label" && c.value === old ? { ...c, value: version } : c));
  const roots: Record<string, string> = { ...from.data.rootImages };
  for (const [platform, address] of Object.entries(rootImages)) {
    roots[platform] = formatImageAddress(parseRootImage(address, platform, `--root-image ${platform}`));
  }
  if (changelog.trim() === "") throw new ConnectorBuildError("USAGE", "--changelog is empty: expected a sentence saying what changed");
  return { version, changelog: changelog.trim(), rootImages: roots, recipe, sanityChecks };
}

function readCatalogBytes(path: string): { bytes: string; catalog: BaseImageCatalog } {
  if (!existsSync(path)) throw new ConnectorBuildError("CATALOG_NOT_FOUND", `catalog file ${path} does not exist`);
  const bytes = readFileSync(path, "utf8");
  let data: unknown;
  try {
    data = JSON.parse(bytes);
  } catch (error) {
    throw new ConnectorBuildError("CATALOG_NOT_FOUND", `catalog file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  return { bytes, catalog: parseCatalog(data, path) };
}

/** Checks every root image digest is the manifest of its platform, before anything is built or pushed. */
export async function verifyRootImages(version: BaseImageVersion, platforms: readonly Platform[], client: RegistryClient, log: Log): Promise<void> {
  for (const platform of platforms) {
    const address = formatImageAddress(version.rootImage(platform));
    log(`checking root image ${address} is the ${platform} manifest`);
    try {
      await client.assertPlatform(address, platform);
    } catch (error) {
      throw new ConnectorBuildError("RELEASE_REFUSED", `base image ${version.version}: root image for ${platform} refused: ${(error as Error).message}`, { cause: error });
    }
  }
}

/** Builds, checks, publishes one version; returns the publish result. Nothing is pushed unless every platform passes. */
async function buildCheckPublish(
  engine: Engine,
  version: BaseImageVersion,
  repository: string,
  client: RegistryClient,
  log: Log,
  signal: { aborted: boolean },
  pipIndex?: PipIndexOptions,
): Promise<ReleaseResult & { dockerfiles: Record<string, string> }> {
  const platforms = version.platforms;
  await verifyRootImages(version, platforms, client, log);
  const images: BuiltImage[] = [];
  const dockerfiles: Record<string, string> = {};
  for (const platform of platforms) {
    if (signal.aborted) throw interrupted();
    log(`building ${version.version} for ${platform}`);
    const recipe = version.recipeFor(platform);
    // The recorded Dockerfile is the version's own; the package index is a setting of this build.
    dockerfiles[platform] = renderDockerfile(recipe).dockerfile;
    const secrets = pipIndexSecrets(pipIndex);
    images.push(await engine.build({ recipe: withPipIndex(recipe, pipIndex), platform, ...(Object.keys(secrets).length > 0 ? { secrets } : {}) }));
  }
  if (signal.aborted) throw interrupted();
  log(`running ${version.sanityChecks.length} sanity checks on ${platforms.join(", ")}`);
  const report = await checkBaseImage(engine, version, images);
  log(formatSanityReport(report));
  if (!report.passed) {
    throw new ConnectorBuildError(
      "SANITY_CHECK_FAILED",
      `base image ${version.version} failed ${report.results.filter((r) => !r.passed).length} sanity check(s); nothing was published and the catalog is unchanged:\n${report.results
        .filter((r) => !r.passed)
        .map((r) => `  [${r.platform}] ${r.check}: expected ${r.expected}, saw ${r.seen}`)
        .join("\n")}`,
    );
  }
  if (signal.aborted) throw interrupted();
  const reference = `${repository}:${version.version}`;
  log(`publishing ${reference} (${platforms.join(", ")})`);
  const published = await engine.publish(images, reference);
  // Record what the registry reports, not what the engine computed.
  const digest = await new RegistryClient().resolveDigest(reference);
  if (digest !== published.digest) {
    throw new ConnectorBuildError("PUBLISH_FAILED", `published ${reference} as ${published.digest} but the registry reports ${digest}`);
  }
  return { version: version.version, address: `${reference}@${digest}`, digest, platformDigests: published.platformDigests, report, dockerfiles };
}

function interrupted(): ConnectorBuildError {
  return new ConnectorBuildError("INTERRUPTED", "interrupted: nothing was recorded in the catalog");
}

/** Runs `fn` with SIGINT/SIGTERM turned into an abort flag checked between steps. */
async function withInterrupts<T>(fn: (signal: { aborted: boolean }) => Promise<T>): Promise<T> {
  const signal = { aborted: false };
  const onSignal = () => {
    signal.aborted = true;
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const result = await fn(signal);
    if (signal.aborted) throw interrupted();
    return result;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

function recordVersion(path: string, bytesBefore: string, data: BaseImageVersionData, replace: boolean): void {
  const current = readFileSync(path, "utf8");
  if (current !== bytesBefore) {
    throw new ConnectorBuildError("RELEASE_REFUSED", `catalog ${path} changed while releasing ${data.version}: expected it unchanged; nothing was recorded`);
  }
  const { catalog } = readCatalogBytes(path);
  const next = catalog.withVersion(data, { replace });
  writeFileAtomic(path, `${JSON.stringify(next.toJSON(), null, 2)}\n`);
}

/** Options of {@link releaseBaseImage}. */
export interface ReleaseOptions {
  readonly catalogPath: string;
  readonly engine: Engine;
  readonly bump: ReleaseBump;
  readonly changelog: string;
  /** `registry/repository` to publish to. Default: the catalog's repository. */
  readonly publishTo?: string;
  /** Root image per platform to move to. Default: the latest version's. */
  readonly rootImages?: Partial<Record<Platform, string>>;
  /** Overwrite a version already in the catalog or a tag already in the registry. */
  readonly force?: boolean;
  /** Package index for the dependency installs of the build, passed as build secrets. Default: pip's own (PyPI). */
  readonly pipIndex?: PipIndexOptions;
  readonly log?: Log;
  readonly registry?: RegistryClient;
}

/**
 * Releases the next base image version: computes it, builds every platform, runs every sanity check
 * on every platform, publishes one multi-platform index, reads its digest back from the registry,
 * and only then records the version in the catalog (atomically). Any failure or interruption before
 * that leaves the catalog byte-for-byte unchanged and the version tag unpublished.
 */
export async function releaseBaseImage(options: ReleaseOptions): Promise<ReleaseResult> {
  const log = options.log ?? (() => {});
  const client = options.registry ?? new RegistryClient();
  const unlock = lockCatalog(options.catalogPath);
  try {
    const { bytes, catalog } = readCatalogBytes(options.catalogPath);
    const latest = catalog.latest();
    if (latest && !latest.published) {
      throw new ConnectorBuildError(
        "RELEASE_REFUSED",
        `the catalog's latest version ${latest.version} is not published: expected it published before releasing the next one (connector-build base publish ${latest.version})`,
      );
    }
    const version = nextVersion(catalog, options.bump);
    if (catalog.find(version) && !options.force) {
      throw new ConnectorBuildError("RELEASE_REFUSED", `version ${version} is already in the catalog: expected a new version (or --force to overwrite)`);
    }
    const repository = (options.publishTo ?? catalog.repository).replace(/\/+$/, "");
    if (!options.force && (await client.tagExists(repository, version))) {
      throw new ConnectorBuildError("RELEASE_REFUSED", `${repository}:${version} is already published: expected an unused tag (or --force to overwrite)`);
    }
    const data = deriveVersion(latest as BaseImageVersion, version, options.changelog, options.rootImages);
    for (const platform of Object.keys(data.rootImages)) {
      if (!(SUPPORTED_PLATFORMS as readonly string[]).includes(platform)) throw new ConnectorBuildError("USAGE", `unknown platform ${platform}`);
    }
    const candidate = parseCatalog({ ...catalog.toJSON(), versions: [...catalog.toJSON().versions.filter((v) => v.version !== version), data] }).get(version);
    log(`releasing ${catalog.name} ${version} (${options.bump} from ${latest?.version})`);
    const result = await withInterrupts((signal) => buildCheckPublish(options.engine, candidate, repository, client, log, signal, options.pipIndex));
    recordVersion(
      options.catalogPath,
      bytes,
      { ...data, published: { digest: result.digest, publishedAt: new Date().toISOString() }, dockerfiles: result.dockerfiles },
      options.force ?? false,
    );
    log(`recorded ${version} (${result.digest}) in ${options.catalogPath}`);
    return result;
  } finally {
    unlock();
  }
}

/** Publishes a recorded but unpublished version and records its digest. */
export async function publishBaseImage(options: {
  catalogPath: string;
  engine: Engine;
  version: string;
  publishTo?: string;
  force?: boolean;
  /** Package index for the dependency installs of the build, passed as build secrets. Default: pip's own (PyPI). */
  pipIndex?: PipIndexOptions;
  log?: Log;
  registry?: RegistryClient;
}): Promise<ReleaseResult> {
  const log = options.log ?? (() => {});
  const client = options.registry ?? new RegistryClient();
  const unlock = lockCatalog(options.catalogPath);
  try {
    const { bytes, catalog } = readCatalogBytes(options.catalogPath);
    const version = catalog.get(options.version);
    if (version.published && !options.force) {
      throw new ConnectorBuildError("RELEASE_REFUSED", `version ${version.version} is already published as ${version.publishedAddress}: expected an unpublished version (or --force)`);
    }
    const repository = (options.publishTo ?? catalog.repository).replace(/\/+$/, "");
    if (!options.force && (await client.tagExists(repository, version.version))) {
      throw new ConnectorBuildError("RELEASE_REFUSED", `${repository}:${version.version} already exists in the registry: expected an unused tag (or --force to overwrite)`);
    }
    const result = await withInterrupts((signal) => buildCheckPublish(options.engine, version, repository, client, log, signal, options.pipIndex));
    recordVersion(
      options.catalogPath,
      bytes,
      { ...version.data, published: { digest: result.digest, publishedAt: new Date().toISOString() }, dockerfiles: result.dockerfiles },
      true,
    );
    log(`recorded ${version.version} (${result.digest}) in ${options.catalogPath}`);
    return result;
  } finally {
    unlock();
  }
}

/** The Markdown page of a catalog: versions, per-platform digests, changelog, each version's Dockerfile. */
export function renderCatalogDocs(catalog: BaseImageCatalog): string {
  const lines: string[] = [
    `# ${catalog.name}`,
    "",
    `Generated by \`connector-build base docs\` from the catalog; do not edit by hand. Published to \`${catalog.repository}\`.`,
    "",
    "| Version | Published | Root images | Changelog |",
    "| --- | --- | --- | --- |",
  ];
  for (const v of catalog.versions) {
    const roots = v.platforms.map((p) => `${p}: \`${v.rootImage(p).digest.slice(0, 19)}…\``).join("<br>");
    lines.push(`| ${v.version} | ${v.published ? `\`${v.published.address.digest.slice(0, 19)}…\`` : "not yet"} | ${roots} | ${v.changelog.replaceAll("|", "\\|")} |`);
  }
  for (const v of catalog.versions) {
    lines.push("", `## ${v.version}${v.isPrerelease ? " (prerelease)" : ""}`, "", v.changelog, "");
    lines.push(v.published ? `Published: \`${v.publishedAddress}\`${v.published.publishedAt ? ` on ${v.published.publishedAt}` : ""}` : "Not published yet.", "");
    lines.push("| Platform | Root image |", "| --- | --- |");
    for (const p of v.platforms) lines.push(`| ${p} | \`${formatImageAddress(v.rootImage(p))}\` |`);
    lines.push("", "Sanity checks:", "");
    for (const c of v.sanityChecks) lines.push(`- ${c.name}`);
    for (const p of v.platforms) {
      const dockerfile = v.data.dockerfiles?.[p] ?? renderDockerfile(v.recipeFor(p)).dockerfile;
      lines.push("", `### Dockerfile (${p})`, "", "```dockerfile", dockerfile.trimEnd(), "```");
    }
  }
  return `${lines.join("\n")}\n`;
}
