// Experiment `rebase`: a fleet of published connector images moved to a new base version by
// `rebase` (registry API, then `spec` per image) against rebuilding and republishing the same fleet,
// each repetition from the same published images; with dependency-free connectors and, once, with
// connectors that install a real dependency closure (airbyte-cdk) from the index.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DockerEngine, rebaseImages } from "@airbyte-ci/connector-build";
import type { BenchConfig } from "../lib/config.ts";
import { writeFleetConnector } from "../lib/connectors.ts";
import { REPO_ROOT, log, type BenchContext, type Experiment } from "../lib/context.ts";
import { BenchError } from "../lib/docker.ts";
import { ratio, seconds, summarize, type Summary } from "../lib/stats.ts";
import { SUPPLY_FROM, SUPPLY_TO, baseAddress, invalidate, publish, setMetadata } from "../lib/supply-fleet.ts";
import type { Target } from "../lib/target.ts";

export interface RebaseVsRebuild {
  /** What each connector of the fleet installs besides itself (`none`, or a requirement like airbyte-cdk==3.9.6). */
  readonly dependency: string;
  readonly fleet: number;
  readonly from: string;
  readonly to: string;
  /** Wall time per repetition (ms), each way. */
  readonly rebuildMs: Summary;
  readonly rebaseMs: Summary;
  /** The same rebase with `sbom: false` (registry work and `spec` only: no contents listing per image). */
  readonly rebaseWithoutSbomMs: Summary;
  /** Connector layers of one rebased image: unchanged digests, counted. */
  readonly connectorLayersKept: number;
  /** Did every rebased image answer `spec`? */
  readonly verified: boolean;
  /** Whether the base's sanity checks ran for the rebase (`ran`) or were taken from the catalog (`passed-at-release`). */
  readonly baseChecks: string;
}

export interface RebaseResults {
  readonly rebase: RebaseVsRebuild;
  /** The same comparison with connectors that install a real dependency closure from the index. */
  readonly rebaseWithDependency?: RebaseVsRebuild;
}

async function rebaseVsRebuild(ctx: BenchContext, fleet: { size: number; repetitions: number; dependency?: string; name: string }): Promise<RebaseVsRebuild> {
  const fromBase = baseAddress(ctx.catalog, SUPPLY_FROM);
  const toBase = baseAddress(ctx.catalog, SUPPLY_TO);
  const parent = join(ctx.work, `supply-${fleet.name}`);
  mkdirSync(parent, { recursive: true });
  const example = join(REPO_ROOT, "examples", "source-hello");
  const dirs = Array.from({ length: fleet.size }, (_, i) => {
    const dir = writeFleetConnector(parent, example, `source-${fleet.name}-${String(i + 1).padStart(3, "0")}`, fromBase);
    if (fleet.dependency !== undefined) {
      const setup = join(dir, "setup.py");
      writeFileSync(setup, readFileSync(setup, "utf8").replace("MAIN_REQUIREMENTS = []", `MAIN_REQUIREMENTS = [${JSON.stringify(fleet.dependency)}]`));
    }
    return dir;
  });
  const rebuild: number[] = [];
  const rebase: number[] = [];
  const rebaseWithoutSbom: number[] = [];
  let kept = 0;
  let verified = true;
  let baseChecks = "";
  for (let r = 0; r < fleet.repetitions; r++) {
    // The fleet as it is before the move: on the old base, published under 0.1.<r>.
    const tag = `0.1.${r}`;
    for (const dir of dirs) setMetadata(dir, fromBase, tag);
    invalidate(dirs, `${Date.now()}-${r}`);
    const before = await publish(ctx, dirs, { reproducible: false });
    log(`  rebase: fleet of ${dirs.length} published on base ${SUPPLY_FROM} (${seconds(before.ms)})`);
    const ways = r % 2 === 0 ? (["rebuild", "rebase"] as const) : (["rebase", "rebuild"] as const);
    for (const way of ways) {
      if (way === "rebuild") {
        // What a team does without rebase: point every connector at the new base, build and publish again.
        for (const dir of dirs) setMetadata(dir, toBase, `${tag}-rebuilt`);
        const { ms } = await publish(ctx, dirs, { reproducible: false });
        rebuild.push(ms);
        log(`  rebase: rebuild of ${dirs.length} onto ${SUPPLY_TO}: ${seconds(ms)}`);
        continue;
      }
      const references = before.results.map((b) => {
        const reference = b.output?.reference?.split("@")[0];
        if (!reference) throw new BenchError(`no published reference in the result of ${b.connector}`);
        return reference;
      });
      const started = performance.now();
      const results = await rebaseImages(references, { catalog: ctx.catalog, to: SUPPLY_TO, engine: new DockerEngine(), tag: `${tag}-rebased`, concurrency: ctx.config.fleetConcurrency });
      const ms = performance.now() - started;
      rebase.push(ms);
      for (const result of results) for (const p of result.platforms) verified &&= p.spec.passed && p.checks.every((c) => c.passed);
      kept = results[0]?.platforms[0]?.connectorLayers.length ?? 0;
      baseChecks = results[0]?.platforms[0]?.baseChecks ?? "";
      log(`  rebase: rebase of ${results.length} onto ${SUPPLY_TO}: ${seconds(ms)}`);
      // Where the rest goes: the same rebase without the SBOMs' contents listing (one container per image fewer).
      const bare = performance.now();
      await rebaseImages(references, { catalog: ctx.catalog, to: SUPPLY_TO, engine: new DockerEngine(), tag: `${tag}-rebased-nosbom`, concurrency: ctx.config.fleetConcurrency, sbom: false });
      rebaseWithoutSbom.push(performance.now() - bare);
      log(`  rebase: rebase of ${results.length} onto ${SUPPLY_TO} without SBOMs: ${seconds(performance.now() - bare)}`);
    }
  }
  return { dependency: fleet.dependency ?? "none", fleet: dirs.length, from: SUPPLY_FROM, to: SUPPLY_TO, rebuildMs: summarize(rebuild), rebaseMs: summarize(rebase), rebaseWithoutSbomMs: summarize(rebaseWithoutSbom), connectorLayersKept: kept, verified, baseChecks };
}

function renderRebase(b: RebaseVsRebuild): string[] {
  return [
    `Rebase vs rebuild: a fleet of ${b.fleet} published connectors (dependencies: ${b.dependency}) moved from base ${b.from} to ${b.to} (${b.rebuildMs.values.length} repetition(s), medians)`,
    `  rebuild and republish: ${seconds(b.rebuildMs.median)} (${seconds(b.rebuildMs.median / b.fleet)} per connector)`,
    `  rebase (registry API, then spec per image; base checks: ${b.baseChecks}): ${seconds(b.rebaseMs.median)} (${seconds(b.rebaseMs.median / b.fleet)} per connector)`,
    `  rebase without SBOMs (registry API and spec only): ${seconds(b.rebaseWithoutSbomMs.median)} (${ratio(b.rebaseWithoutSbomMs.median, b.rebuildMs.median)} of the rebuild)`,
    `  rebase ÷ rebuild: ${ratio(b.rebaseMs.median, b.rebuildMs.median)}; connector layers kept per image: ${b.connectorLayersKept}; every rebased image verified: ${b.verified ? "yes" : "NO"}`,
  ];
}

function targets(r: RebaseResults): Target[] {
  return [r.rebase, ...(r.rebaseWithDependency ? [r.rebaseWithDependency] : [])].map((b) => ({
    id: `rebase-vs-rebuild${b.dependency === "none" ? "" : "-with-dependency"}`,
    description: `rebase of ${b.fleet} published connectors (dependencies: ${b.dependency}) ≤ 0.1× rebuilding and republishing them, every rebased image verified`,
    status: b.verified && b.rebaseMs.median <= 0.1 * b.rebuildMs.median ? "PASS" : "MISS",
    figures: `rebase ${seconds(b.rebaseMs.median)} vs rebuild ${seconds(b.rebuildMs.median)} (${ratio(b.rebaseMs.median, b.rebuildMs.median)}; limit 0.1× = ${seconds(0.1 * b.rebuildMs.median)})`,
  }));
}

export const rebase: Experiment<RebaseResults> = {
  id: "rebase",
  description: `rebase of a published fleet (${SUPPLY_FROM} → ${SUPPLY_TO}) vs rebuilding and republishing it; dependency-free, then with BENCH_SUPPLY_CDK`,
  async run(ctx: BenchContext): Promise<RebaseResults> {
    const { config } = ctx;
    if (ctx.catalog.get(SUPPLY_FROM).version.split(".")[0] !== ctx.catalog.get(SUPPLY_TO).version.split(".")[0]) {
      throw new BenchError(`rebase: ${SUPPLY_FROM} and ${SUPPLY_TO} are not of one major version: rebase refuses that`);
    }
    log(`rebase: rebase vs rebuild of ${config.supplyFleet} connectors (${SUPPLY_FROM} → ${SUPPLY_TO})${config.supplyCdk ? `, then with ${config.supplyCdk}` : ""}`);
    const plain = await rebaseVsRebuild(ctx, { size: config.supplyFleet, repetitions: config.repetitions, name: "supply" });
    const withDependency = config.supplyCdk !== undefined ? await rebaseVsRebuild(ctx, { size: config.supplyFleet, repetitions: 1, dependency: config.supplyCdk, name: "supply-cdk" }) : undefined;
    return { rebase: plain, ...(withDependency ? { rebaseWithDependency: withDependency } : {}) };
  },
  report: (r: RebaseResults, _config: BenchConfig) => ["", ...renderRebase(r.rebase), ...(r.rebaseWithDependency ? renderRebase(r.rebaseWithDependency) : [])],
  targets,
};
