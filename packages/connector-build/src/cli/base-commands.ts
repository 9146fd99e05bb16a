import { parsePlatform, parsePlatformList, type BaseImageVersion, type Platform } from "@airbyte-ci/base-images";
import { loadCatalog } from "../catalog-source.ts";
import { renderDockerfile } from "../engines/dockerfile.ts";
import type { BuiltImage, Engine } from "../engines/engine.ts";
import { selectEngine, type EngineChoice } from "../engines/select-engine.ts";
import { ConnectorBuildError } from "../errors.ts";
import { checkBaseImage, formatSanityReport } from "../sanity-checks.ts";

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

/** Builds a base image version on every requested platform. */
export async function buildBaseImage(engine: Engine, version: BaseImageVersion, platforms: readonly Platform[]): Promise<BuiltImage[]> {
  const images: BuiltImage[] = [];
  for (const platform of platforms) {
    err(`building base image ${version.version} for ${platform} on ${engine.name}`);
    images.push(await engine.build({ recipe: version.recipeFor(platform), platform }));
  }
  return images;
}

export async function buildCommand(versionName: string, opts: { catalog?: string; engine: EngineChoice; platform?: string }): Promise<void> {
  const { catalog } = loadCatalog(opts.catalog);
  const version = catalog.get(versionName);
  const platforms = platformsOf(version, opts.platform);
  const engine = await selectEngine(opts.engine);
  try {
    for (const image of await buildBaseImage(engine, version, platforms)) {
      process.stdout.write(`${image.platform}\t${image.ref}\n`);
    }
  } finally {
    await engine.close();
  }
}

export async function checkCommand(
  versionName: string,
  opts: { catalog?: string; engine: EngineChoice; platform?: string; json?: boolean },
): Promise<void> {
  const { catalog } = loadCatalog(opts.catalog);
  const version = catalog.get(versionName);
  const platforms = platformsOf(version, opts.platform);
  const engine = await selectEngine(opts.engine);
  try {
    const images = await buildBaseImage(engine, version, platforms);
    const report = await checkBaseImage(engine, version, images);
    process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatSanityReport(report)}\n`);
    if (!report.passed) {
      throw new ConnectorBuildError("SANITY_CHECK_FAILED", `base image ${version.version} failed ${report.results.filter((r) => !r.passed).length} sanity check(s)`);
    }
  } finally {
    await engine.close();
  }
}
