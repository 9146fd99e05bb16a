// Supply-chain benchmarks (issue #14), in one run on the local Docker engine and registry:
// - moving a fleet of published connector images to a new base version by `rebase` (registry API,
//   then sanity checks and `spec` per image) against rebuilding and republishing the same fleet;
// - publishing with and without `--reproducible` (SOURCE_DATE_EPOCH, normalised layers), cold and
//   warm, and whether two reproducible publishes of the same inputs give one digest.
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BaseImageCatalog, Platform } from "@airbyte-ci/base-images";
import { buildConnectors, type ConnectorBuildResult } from "../../src/build/build-connectors.ts";
import { setBaseImageInYaml } from "../../src/connector/metadata-edit.ts";
import { DockerEngine } from "../../src/engines/docker/docker-engine.ts";
import { rebaseImages } from "../../src/supply-chain/rebase.ts";
import { writeFleetConnector } from "./connectors.ts";
import { BenchError } from "./docker.ts";
import { ratio, seconds, summarize, type Summary } from "./stats.ts";

const PLATFORM: Platform = "linux/amd64";

export interface SupplySettings {
  readonly catalog: BaseImageCatalog;
  /** Base version the fleet is first published on, and the one it moves to (same major). */
  readonly from: string;
  readonly to: string;
  /** Connectors in the rebase-vs-rebuild fleet. */
  readonly fleetSize: number;
  /** A second rebase-vs-rebuild fleet whose connectors depend on this requirement (one repetition), e.g. airbyte-cdk==3.9.6. */
  readonly cdkRequirement?: string;
  /** Connectors in that fleet (default: fleetSize). */
  readonly cdkFleetSize?: number;
  /** Connectors per reproducible/plain publish. */
  readonly reproducibleSize: number;
  readonly repetitions: number;
  readonly concurrency: number;
  readonly work: string;
  readonly exampleDir: string;
  readonly pipIndexUrl: string;
  /** Registry prefix the fleet is published under, e.g. 127.0.0.1:5000/airbyte-bench-<stamp>. */
  readonly registryPrefix: string;
  readonly log: (line: string) => void;
  /** Docker images the caller removes at the end. */
  readonly images: string[];
}

export interface RebaseVsRebuild {
  /** What each connector of the fleet installs besides itself (`none`, or a requirement like airbyte-cdk==3.9.6). */
  readonly dependency: string;
  readonly fleet: number;
  readonly from: string;
  readonly to: string;
  /** Wall time per repetition (ms), each way. */
  readonly rebuildMs: Summary;
  readonly rebaseMs: Summary;
  /** Connector layers of one rebased image: unchanged digests, counted. */
  readonly connectorLayersKept: number;
  /** Did every rebased image pass the sanity checks and `spec`? */
  readonly verified: boolean;
}

export interface ReproducibleCost {
  readonly connectors: number;
  /** Wall time per repetition (ms), by mode and cache. */
  readonly plain: { readonly cold: Summary; readonly warm: Summary };
  readonly reproducible: { readonly cold: Summary; readonly warm: Summary };
  /** Index digests of the first connector, per reproducible publish of the same inputs (warm and cold runs of one repetition). */
  readonly reproducibleDigests: readonly string[];
  readonly plainDigests: readonly string[];
}

export interface SupplyResults {
  readonly rebase: RebaseVsRebuild;
  /** The same comparison with connectors that install a real dependency closure from the index. */
  readonly rebaseWithDependency?: RebaseVsRebuild;
  readonly reproducible: ReproducibleCost;
}

function baseAddress(catalog: BaseImageCatalog, version: string): string {
  const address = catalog.get(version).publishedAddress;
  if (!address) throw new BenchError(`base image ${version} of the local catalog is not published: run bash scripts/bootstrap.sh`);
  return address;
}

function setMetadata(dir: string, baseImage: string, tag: string): void {
  const path = join(dir, "metadata.yaml");
  const yaml = setBaseImageInYaml(readFileSync(path, "utf8"), baseImage, path).replace(/dockerImageTag: .*/, `dockerImageTag: ${tag}`);
  writeFileSync(path, yaml);
}

/** Changes every connector's files, so that its own build steps run again (the base layers stay cached). */
function invalidate(dirs: readonly string[], key: string): void {
  for (const dir of dirs) appendFileSync(join(dir, "setup.py"), `# bench supply key ${key}\n`);
}

async function publish(s: SupplySettings, dirs: readonly string[], options: { reproducible: boolean }): Promise<{ ms: number; results: ConnectorBuildResult[] }> {
  const started = performance.now();
  const results = await buildConnectors(dirs, {
    engine: new DockerEngine(),
    catalog: s.catalog,
    platforms: [PLATFORM],
    output: { kind: "registry", prefix: s.registryPrefix },
    concurrency: s.concurrency,
    pipIndex: { indexUrl: s.pipIndexUrl },
    force: true,
    reproducible: options.reproducible,
  });
  const ms = performance.now() - started;
  const failed = results.find((r) => r.status !== "success");
  if (failed) throw new BenchError(`publish of ${failed.connector} failed: ${failed.error?.code}: ${failed.error?.message}`);
  s.images.push(...results.flatMap((r) => r.platforms.map((p) => p.imageId)));
  return { ms, results };
}

function indexDigest(result: ConnectorBuildResult | undefined): string {
  const digest = result?.output?.digest;
  if (!digest) throw new BenchError(`no published digest in the result of ${result?.connector ?? "(none)"}`);
  return digest;
}

/** Rebase of a published fleet vs rebuilding and republishing it, each repetition from the same published images. */
async function rebaseVsRebuild(s: SupplySettings, fleet: { size: number; repetitions: number; dependency?: string; name: string }): Promise<RebaseVsRebuild> {
  const fromBase = baseAddress(s.catalog, s.from);
  const toBase = baseAddress(s.catalog, s.to);
  const parent = join(s.work, `supply-${fleet.name}`);
  mkdirSync(parent, { recursive: true });
  const dirs = Array.from({ length: fleet.size }, (_, i) => {
    const dir = writeFleetConnector(parent, s.exampleDir, `source-${fleet.name}-${String(i + 1).padStart(3, "0")}`, fromBase);
    if (fleet.dependency !== undefined) {
      const setup = join(dir, "setup.py");
      writeFileSync(setup, readFileSync(setup, "utf8").replace("MAIN_REQUIREMENTS = []", `MAIN_REQUIREMENTS = [${JSON.stringify(fleet.dependency)}]`));
    }
    return dir;
  });
  const rebuild: number[] = [];
  const rebase: number[] = [];
  let kept = 0;
  let verified = true;
  for (let r = 0; r < fleet.repetitions; r++) {
    const key = `${Date.now()}-${r}`;
    // The fleet as it is before the move: on the old base, published under 0.1.<r>.
    const tag = `0.1.${r}`;
    for (const dir of dirs) setMetadata(dir, fromBase, tag);
    invalidate(dirs, key);
    const before = await publish(s, dirs, { reproducible: false });
    s.log(`  supply: fleet of ${dirs.length} published on base ${s.from} (${seconds(before.ms)})`);
    const ways = r % 2 === 0 ? (["rebuild", "rebase"] as const) : (["rebase", "rebuild"] as const);
    for (const way of ways) {
      if (way === "rebuild") {
        // What a team does without rebase: point every connector at the new base, build and publish again.
        for (const dir of dirs) setMetadata(dir, toBase, `${tag}-rebuilt`);
        const { ms } = await publish(s, dirs, { reproducible: false });
        rebuild.push(ms);
        s.log(`  supply: rebuild of ${dirs.length} onto ${s.to}: ${seconds(ms)}`);
      } else {
        const references = before.results.map((b) => {
          const reference = b.output?.reference?.split("@")[0];
          if (!reference) throw new BenchError(`no published reference in the result of ${b.connector}`);
          return reference;
        });
        const started = performance.now();
        const results = await rebaseImages(references, { catalog: s.catalog, to: s.to, engine: new DockerEngine(), tag: `${tag}-rebased`, concurrency: s.concurrency });
        const ms = performance.now() - started;
        rebase.push(ms);
        for (const result of results) {
          for (const p of result.platforms) verified &&= p.spec.passed && p.checks.every((c) => c.passed);
        }
        kept = results[0]?.platforms[0]?.connectorLayers.length ?? 0;
        s.log(`  supply: rebase of ${results.length} onto ${s.to}: ${seconds(ms)}`);
      }
    }
  }
  return { dependency: fleet.dependency ?? "none", fleet: dirs.length, from: s.from, to: s.to, rebuildMs: summarize(rebuild), rebaseMs: summarize(rebase), connectorLayersKept: kept, verified };
}

/** Publishing with and without --reproducible: cold (connector files changed) then warm (the same publish again). */
async function reproducibleCost(s: SupplySettings): Promise<ReproducibleCost> {
  const base = baseAddress(s.catalog, s.to);
  const parent = join(s.work, "supply-repro");
  mkdirSync(parent, { recursive: true });
  const dirs = Array.from({ length: s.reproducibleSize }, (_, i) => writeFleetConnector(parent, s.exampleDir, `source-repro-${String(i + 1).padStart(3, "0")}`, base));
  const times = { plain: { cold: [] as number[], warm: [] as number[] }, reproducible: { cold: [] as number[], warm: [] as number[] } };
  const reproducibleDigests: string[] = [];
  const plainDigests: string[] = [];
  for (let r = 0; r < s.repetitions; r++) {
    const modes = r % 2 === 0 ? (["plain", "reproducible"] as const) : (["reproducible", "plain"] as const);
    for (const mode of modes) {
      for (const dir of dirs) setMetadata(dir, base, `0.2.${r}-${mode}`);
      invalidate(dirs, `${Date.now()}-${r}-${mode}`);
      for (const cache of ["cold", "warm"] as const) {
        const { ms, results } = await publish(s, dirs, { reproducible: mode === "reproducible" });
        times[mode][cache].push(ms);
        (mode === "reproducible" ? reproducibleDigests : plainDigests).push(indexDigest(results[0]));
        s.log(`  supply: ${mode} publish of ${dirs.length}, ${cache}: ${seconds(ms)}`);
      }
    }
  }
  return {
    connectors: dirs.length,
    plain: { cold: summarize(times.plain.cold), warm: summarize(times.plain.warm) },
    reproducible: { cold: summarize(times.reproducible.cold), warm: summarize(times.reproducible.warm) },
    reproducibleDigests,
    plainDigests,
  };
}

export async function runSupply(s: SupplySettings): Promise<SupplyResults> {
  if (s.catalog.get(s.from).version.split(".")[0] !== s.catalog.get(s.to).version.split(".")[0]) {
    throw new BenchError(`supply: ${s.from} and ${s.to} are not of one major version: rebase refuses that`);
  }
  const rebase = await rebaseVsRebuild(s, { size: s.fleetSize, repetitions: s.repetitions, name: "supply" });
  const reproducible = await reproducibleCost(s);
  const rebaseWithDependency =
    s.cdkRequirement !== undefined ? await rebaseVsRebuild(s, { size: s.cdkFleetSize ?? s.fleetSize, repetitions: 1, dependency: s.cdkRequirement, name: "supply-cdk" }) : undefined;
  return { rebase, reproducible, ...(rebaseWithDependency ? { rebaseWithDependency } : {}) };
}

function renderRebase(b: RebaseVsRebuild): string[] {
  return [
    `Rebase vs rebuild: a fleet of ${b.fleet} published connectors (dependencies: ${b.dependency}) moved from base ${b.from} to ${b.to} (${b.rebuildMs.values.length} repetition(s), medians)`,
    `  rebuild and republish: ${seconds(b.rebuildMs.median)} (${seconds(b.rebuildMs.median / b.fleet)} per connector)`,
    `  rebase (registry API, then sanity checks and spec per image): ${seconds(b.rebaseMs.median)} (${seconds(b.rebaseMs.median / b.fleet)} per connector)`,
    `  rebase ÷ rebuild: ${ratio(b.rebaseMs.median, b.rebuildMs.median)}; connector layers kept per image: ${b.connectorLayersKept}; every rebased image verified: ${b.verified ? "yes" : "NO"}`,
  ];
}

export function renderSupplyReport(r: SupplyResults): string[] {
  const p = r.reproducible;
  const sameDigest = (list: readonly string[]) => (list.length > 1 && new Set(list).size === 1 ? "yes" : `no (${new Set(list).size} digests in ${list.length} publishes)`);
  return [
    ...renderRebase(r.rebase),
    ...(r.rebaseWithDependency ? renderRebase(r.rebaseWithDependency) : []),
    `Reproducible publishing: ${p.connectors} connectors to the registry (${p.plain.cold.values.length} repetition(s), medians)`,
    `  cold: plain ${seconds(p.plain.cold.median)}, --reproducible ${seconds(p.reproducible.cold.median)} (${ratio(p.reproducible.cold.median, p.plain.cold.median)})`,
    `  warm: plain ${seconds(p.plain.warm.median)}, --reproducible ${seconds(p.reproducible.warm.median)} (${ratio(p.reproducible.warm.median, p.plain.warm.median)})`,
    `  the cold and the warm publish of the same inputs gave one index digest: --reproducible ${sameDigest(p.reproducibleDigests.slice(0, 2))}, plain ${sameDigest(p.plainDigests.slice(0, 2))}`,
  ];
}

export function supplyTargets(r: SupplyResults): Array<{ id: string; description: string; status: "PASS" | "MISS"; figures: string }> {
  const p = r.reproducible;
  const oneDigest = p.reproducibleDigests.length > 1 && new Set(p.reproducibleDigests.slice(0, 2)).size === 1;
  return [
    ...[r.rebase, ...(r.rebaseWithDependency ? [r.rebaseWithDependency] : [])].map((b) => ({
      id: `rebase-vs-rebuild${b.dependency === "none" ? "" : "-with-dependency"}`,
      description: `rebase of ${b.fleet} published connectors (dependencies: ${b.dependency}) faster than rebuilding them, every rebased image verified`,
      status: (b.verified && b.rebaseMs.median < b.rebuildMs.median ? "PASS" : "MISS") as "PASS" | "MISS",
      figures: `rebase ${seconds(b.rebaseMs.median)} vs rebuild ${seconds(b.rebuildMs.median)} (${ratio(b.rebaseMs.median, b.rebuildMs.median)})`,
    })),
    {
      id: "reproducible-digest",
      description: "a reproducible publish of the same inputs gives the same index digest",
      status: oneDigest ? "PASS" : "MISS",
      figures: `${new Set(p.reproducibleDigests.slice(0, 2)).size} digest(s) in 2 publishes; cold cost ${ratio(p.reproducible.cold.median, p.plain.cold.median)} of plain`,
    },
  ];
}
