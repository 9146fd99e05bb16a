import { parsePlatform, parsePlatformList, type BaseImageVersion, type Platform } from "@airbyte-ci/base-images";
import { withInterruptSignal } from "./signals.ts";
import { loadCatalog } from "../base-image/catalog-source.ts";
import { renderDockerfile } from "../dockerfile/render.ts";
import { buildBaseImage } from "../base-image/build-check-publish.ts";
import { selectEngine, type EngineChoice } from "../engines/select.ts";
import { ConnectorBuildError } from "../errors.ts";
import { checkBaseImage, formatSanityReport } from "../base-image/sanity-checks.ts";
import { parsePipIndexOptions, type PipIndexOptions } from "../connector/pip-index.ts";

const err = (line: string) => process.stderr.write(`${line}\n`);

export function listCommand(opts: { catalog?: string; json?: boolean }): void {
  const { catalog, path } = loadCatalog(opts.catalog);
  const rows = catalog.versions.map((v) => ({
    version: v.version,
    prerelease: v.isPrerelease,
    published: v.publishedAddress ?? null,
    platforms: Object.fromEntries(v.platforms.map((p) => [p, v.rootImage(p).digest])),
    rootImages: v.data.rootImages,
    changelog: v.changelog,
  }));
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ catalog: catalog.name, path, repository: catalog.repository, versions: rows }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`${catalog.name} (${path})\n`);
  for (const row of rows) {
    process.stdout.write(`${row.version}${row.prerelease ? " (prerelease)" : ""}  ${row.published ? `published ${row.published}` : "unpublished"}\n`);
    for (const [platform, address] of Object.entries(row.rootImages)) process.stdout.write(`  ${platform}  ${address}\n`);
  }
}

export function dockerfileCommand(version: string, opts: { catalog?: string; platform: string }): void {
  const { catalog } = loadCatalog(opts.catalog);
  const platform = parsePlatform(opts.platform, "--platform");
  process.stdout.write(renderDockerfile(catalog.get(version).recipeFor(platform)).dockerfile);
}

function platformsOf(version: BaseImageVersion, option: string | undefined): Platform[] {
  if (option === undefined) return version.platforms;
  const wanted = parsePlatformList(option, "--platform");
  for (const p of wanted) version.rootImage(p);
  return wanted;
}

/** Options naming the build's package index, as the CLI gives them. */
interface PipIndexFlags {
  pipIndexUrl?: string;
  pipExtraIndexUrl?: string[] | string;
}

function pipIndexOf(opts: PipIndexFlags): PipIndexOptions {
  return parsePipIndexOptions({ indexUrl: opts.pipIndexUrl, extraIndexUrls: [opts.pipExtraIndexUrl ?? []].flat() });
}

export async function buildCommand(versionName: string, opts: { catalog?: string; engine: EngineChoice; platform?: string } & PipIndexFlags): Promise<void> {
  const { catalog } = loadCatalog(opts.catalog);
  const version = catalog.get(versionName);
  const platforms = platformsOf(version, opts.platform);
  const pipIndex = pipIndexOf(opts);
  const engine = await selectEngine(opts.engine);
  try {
    for (const image of await buildBaseImage(engine, version, platforms, { log: err, pipIndex })) {
      process.stdout.write(`${image.platform}\t${image.ref}\n`);
    }
  } finally {
    await engine.close();
  }
}

export async function checkCommand(
  versionName: string,
  opts: { catalog?: string; engine: EngineChoice; platform?: string; json?: boolean } & PipIndexFlags,
): Promise<void> {
  const { catalog } = loadCatalog(opts.catalog);
  const version = catalog.get(versionName);
  const platforms = platformsOf(version, opts.platform);
  const pipIndex = pipIndexOf(opts);
  const engine = await selectEngine(opts.engine);
  try {
    const images = await buildBaseImage(engine, version, platforms, { log: err, pipIndex });
    const report = await checkBaseImage(engine, version, images);
    process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatSanityReport(report)}\n`);
    if (!report.passed) {
      throw new ConnectorBuildError("SANITY_CHECK_FAILED", `base image ${version.version} failed ${report.results.filter((r) => !r.passed).length} sanity check(s)`);
    }
  } finally {
    await engine.close();
  }
}


function rootImageOverrides(specs: readonly string[] | undefined): Partial<Record<Platform, string>> {
  const out: Partial<Record<Platform, string>> = {};
  for (const spec of specs ?? []) {
    const eq = spec.indexOf("=");
    if (eq < 0) throw new ConnectorBuildError("USAGE", `--root-image '${spec}': expected <platform>=<registry>/<repository>:<tag>@sha256:<digest>`);
    out[parsePlatform(spec.slice(0, eq), "--root-image")] = spec.slice(eq + 1);
  }
  return out;
}

export async function releaseCommand(opts: {
  catalog?: string;
  engine: EngineChoice;
  bump: "major" | "minor" | "patch" | "prerelease";
  changelog: string;
  publishTo?: string;
  rootImage?: string[];
  force?: boolean;
  json?: boolean;
} & PipIndexFlags): Promise<void> {
  const { releaseBaseImage } = await import("../base-image/release.ts");
  const { path } = loadCatalog(opts.catalog);
  const pipIndex = pipIndexOf(opts);
  const engine = await selectEngine(opts.engine);
  try {
    const result = await withInterruptSignal((signal) => releaseBaseImage({
      signal,
      catalogPath: path,
      engine,
      bump: opts.bump,
      changelog: opts.changelog,
      ...(opts.publishTo ? { publishTo: opts.publishTo } : {}),
      rootImages: rootImageOverrides(opts.rootImage),
      force: opts.force ?? false,
      pipIndex,
      log: err,
    }));
    process.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : `released ${result.version}: ${result.address}\n`);
  } finally {
    await engine.close();
  }
}

export async function publishCommand(
  version: string,
  opts: { catalog?: string; engine: EngineChoice; publishTo?: string; force?: boolean; ifUnpublished?: boolean } & PipIndexFlags,
): Promise<void> {
  const { publishBaseImage } = await import("../base-image/release.ts");
  const { catalog, path } = loadCatalog(opts.catalog);
  const pipIndex = pipIndexOf(opts);
  if (opts.ifUnpublished && catalog.get(version).published) {
    err(`${version} is already published: ${catalog.get(version).publishedAddress}`);
    return;
  }
  const engine = await selectEngine(opts.engine);
  try {
    const result = await withInterruptSignal((signal) => publishBaseImage({ signal, catalogPath: path, engine, version, ...(opts.publishTo ? { publishTo: opts.publishTo } : {}), force: opts.force ?? false, pipIndex, log: err }));
    process.stdout.write(`published ${result.version}: ${result.address}\n`);
  } finally {
    await engine.close();
  }
}

export async function docsCommand(opts: { catalog?: string; output?: string }): Promise<void> {
  const { renderCatalogDocs } = await import("../base-image/catalog-docs.ts");
  const { writeFileAtomic } = await import("../shared/fs-atomic.ts");
  const { catalog } = loadCatalog(opts.catalog);
  const markdown = renderCatalogDocs(catalog);
  if (opts.output) {
    writeFileAtomic(opts.output, markdown);
    err(`wrote ${opts.output}`);
  } else {
    process.stdout.write(markdown);
  }
}
