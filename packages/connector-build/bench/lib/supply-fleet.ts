// What the rebase and reproducible experiments share: a fleet of source-hello copies published to
// the local registry by the common build, and the edits that move it between base versions.
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BaseImageCatalog } from "@airbyte-ci/base-images";
import { buildConnectors, DockerEngine, setBaseImageInYaml, type ConnectorBuildResult } from "@airbyte-ci/connector-build";
import { PLATFORM, type BenchContext } from "./context.ts";
import { BenchError } from "./docker.ts";

/** Base versions the supply experiments move between (same major version: rebase refuses others). */
export const SUPPLY_FROM = "1.0.0";
export const SUPPLY_TO = "1.1.0";

export function baseAddress(catalog: BaseImageCatalog, version: string): string {
  const address = catalog.get(version).publishedAddress;
  if (!address) throw new BenchError(`base image ${version} of the local catalog is not published: run bash scripts/bootstrap.sh`);
  return address;
}

/** The registry prefix a run publishes under: unique per run. */
export function registryPrefix(ctx: BenchContext): string {
  return `127.0.0.1:5000/airbyte-bench-${ctx.startedAt.getTime()}`;
}

export function setMetadata(dir: string, baseImage: string, tag: string): void {
  const path = join(dir, "metadata.yaml");
  const yaml = setBaseImageInYaml(readFileSync(path, "utf8"), baseImage, path).replace(/dockerImageTag: .*/, `dockerImageTag: ${tag}`);
  writeFileSync(path, yaml);
}

/** Changes every connector's files, so that its own build steps run again (the base layers stay cached). */
export function invalidate(dirs: readonly string[], key: string): void {
  for (const dir of dirs) appendFileSync(join(dir, "setup.py"), `# bench supply key ${key}\n`);
}

/** Builds and publishes connectors to the registry (`--force`), timed; throws on the first failure. */
export async function publish(ctx: BenchContext, dirs: readonly string[], options: { reproducible: boolean }): Promise<{ ms: number; results: ConnectorBuildResult[] }> {
  const started = performance.now();
  const results = await buildConnectors(dirs, {
    engine: new DockerEngine(),
    catalog: ctx.catalog,
    platforms: [PLATFORM],
    output: { kind: "registry", prefix: registryPrefix(ctx) },
    concurrency: ctx.config.fleetConcurrency,
    pipIndex: { indexUrl: ctx.pipIndexUrl },
    force: true,
    reproducible: options.reproducible,
  });
  const ms = performance.now() - started;
  const failed = results.find((r) => r.status !== "success");
  if (failed) throw new BenchError(`publish of ${failed.connector} failed: ${failed.error?.code}: ${failed.error?.message}`);
  ctx.images.push(...results.flatMap((r) => r.platforms.map((p) => p.imageId)));
  return { ms, results };
}

export function indexDigest(result: ConnectorBuildResult | undefined): string {
  const digest = result?.output?.digest;
  if (!digest) throw new BenchError(`no published digest in the result of ${result?.connector ?? "(none)"}`);
  return digest;
}
