// Experiment `fleet`: N copies of examples/source-hello on one base, built together by the common
// build, each size on a cold BuildKit cache.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { BaseImageCatalog } from "@airbyte-ci/base-images";
import { buildConnectors, DockerEngine, type BuildOutput } from "@airbyte-ci/connector-build";
import type { BenchConfig } from "../lib/config.ts";
import { writeFleetConnector } from "../lib/connectors.ts";
import { PLATFORM, REPO_ROOT, log, type BenchContext, type Experiment } from "../lib/context.ts";
import { BenchError, pruneBuildCache, removeImages, vertexTimings } from "../lib/docker.ts";
import { ratio, seconds, spread, summarize, type Summary } from "../lib/stats.ts";
import { table, type Target } from "../lib/target.ts";
import { TimedEngine } from "../lib/timed-engine.ts";

// Fleet: N copies of a small connector on one base, built together.

interface FleetRun {
  n: number;
  repetitions: Array<{
    totalMs: number;
    perConnectorMs: number;
    connectorMs: number[];
    engineBuildMs: number[];
    /** Seconds BuildKit reported, summed over the fleet's connectors, by kind of vertex. */
    vertexSeconds: Record<string, number>;
  }>;
  totalMs: Summary;
  perConnectorMs: Summary;
}

/** Sums BuildKit vertex times of a fleet by kind: where N connectors spend their build time. */
function fleetVertexSeconds(perConnector: readonly string[][]): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const lines of perConnector) {
    for (const v of vertexTimings(lines)) {
      if (v.cached || v.seconds === 0) continue;
      const kind = /"pip","install"/.test(v.title) && !/pip==/.test(v.title)
        ? "connector pip install"
        : /RUN /.test(v.title)
          ? "base image RUN steps"
          : /^exporting/.test(v.title)
            ? "image export"
            : /COPY|WORKDIR/.test(v.title)
              ? "COPY/WORKDIR"
              : "context, FROM and other";
      sums[kind] = Math.round(((sums[kind] ?? 0) + v.seconds) * 10) / 10;
    }
  }
  return sums;
}

async function runFleet(config: BenchConfig, work: string, catalog: BaseImageCatalog, baseImage: string, fleetImages: string[]): Promise<FleetRun[]> {
  const largest = Math.max(...config.fleetSizes);
  const parent = join(work, "fleet");
  mkdirSync(parent, { recursive: true });
  const example = join(REPO_ROOT, "examples", "source-hello");
  const dirs = Array.from({ length: largest }, (_, i) => writeFleetConnector(parent, example, `source-fleet-${String(i + 1).padStart(3, "0")}`, baseImage));
  const output: BuildOutput = config.fleetOutput === "docker" ? { kind: "docker" } : { kind: "none" };
  const tags = dirs.map((d) => `airbyte-bench/${d.split("/").at(-1) as string}:0.1.0`);
  const runs: FleetRun[] = config.fleetSizes.map((n) => ({ n, repetitions: [], totalMs: summarize([]), perConnectorMs: summarize([]) }));
  for (let rep = 0; rep < config.repetitions; rep++) {
    for (const fleetRun of runs) {
      const { n } = fleetRun;
      await removeImages([...fleetImages.splice(0), ...(config.fleetOutput === "docker" ? tags : [])]);
      await pruneBuildCache();
      const engine = new TimedEngine(new DockerEngine());
      const lines = new Map<string, string[]>();
      const onProgress = (connector: string, line: string) => {
        const list = lines.get(connector) ?? [];
        list.push(line);
        lines.set(connector, list);
      };
      const started = performance.now();
      const results = await buildConnectors(dirs.slice(0, n), { engine, catalog, platforms: [PLATFORM], output, concurrency: config.fleetConcurrency, onProgress });
      const totalMs = performance.now() - started;
      fleetImages.push(...results.flatMap((r) => r.platforms.map((p) => p.imageId)));
      const failed = results.find((r) => r.status !== "success");
      if (failed) throw new BenchError(`fleet of ${n}: ${failed.connector} failed: ${failed.error?.code ?? "?"}: ${failed.error?.message ?? ""}`);
      fleetRun.repetitions.push({
        totalMs,
        perConnectorMs: totalMs / n,
        connectorMs: results.map((r) => r.durationMs),
        engineBuildMs: [...engine.buildMs.values()],
        vertexSeconds: fleetVertexSeconds([...lines.values()]),
      });
      const vs = fleetRun.repetitions.at(-1)?.vertexSeconds ?? {};
      log(
        `  fleet of ${String(n).padStart(2)} (repetition ${rep + 1}/${config.repetitions}): ${seconds(totalMs)}, ${seconds(totalMs / n)} per connector; ` +
          `BuildKit time summed over connectors: ${Object.entries(vs).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(", ")}`,
      );
    }
  }
  for (const r of runs) {
    r.totalMs = summarize(r.repetitions.map((x) => x.totalMs));
    r.perConnectorMs = summarize(r.repetitions.map((x) => x.perConnectorMs));
  }
  return runs;
}


export interface FleetResult {
  concurrency: number;
  output: string;
  connector: string;
  runs: FleetRun[];
}

function report(result: FleetResult, config: BenchConfig): string[] {
  const one = result.runs.find((f) => f.n === 1);
  return [
    "",
    `Fleet: copies of examples/source-hello on one base, buildConnectors concurrency ${config.fleetConcurrency}, output ${config.fleetOutput}, cold BuildKit cache each time, median of ${config.repetitions}`,
    table([
      ["connectors", "total", "per connector", "total / one cold build"],
      ...result.runs.map((f) => [String(f.n), seconds(f.totalMs.median), seconds(f.perConnectorMs.median), one ? ratio(f.totalMs.median, one.totalMs.median) : "–"]),
    ]),
  ];
}

function targets(result: FleetResult): Target[] {
  const one = result.runs.find((f) => f.n === 1);
  const twenty = result.runs.find((f) => f.n === 20);
  if (!one || !twenty) return [{ id: "fleet-20", description: "fleet of 20 ≤ 3× one cold build", status: "SKIP", figures: "fleet sizes 1 and 20 not both measured" }];
  return [
    {
      id: "fleet-20",
      description: "fleet of 20 ≤ 3× one cold build",
      status: twenty.totalMs.median <= 3 * one.totalMs.median ? "PASS" : "MISS",
      figures: `fleet of 20 ${seconds(twenty.totalMs.median)}${spread(twenty.totalMs)} = ${ratio(twenty.totalMs.median, one.totalMs.median)} one cold build of the same connector (fleet of 1: ${seconds(one.totalMs.median)}${spread(one.totalMs)}); limit ${seconds(3 * one.totalMs.median)}`,
    },
  ];
}

export const fleet: Experiment<FleetResult> = {
  id: "fleet",
  description: "N copies of source-hello built together by the common build, cold",
  async run(ctx: BenchContext): Promise<FleetResult> {
    const { config } = ctx;
    log(`fleet: ${config.fleetSizes.join(", ")} connectors, concurrency ${config.fleetConcurrency}, output ${config.fleetOutput}`);
    const fleetImages: string[] = [];
    ctx.onCleanup("fleet images", async () => {
      if (config.keepImages) return;
      await removeImages(fleetImages);
      if (config.fleetOutput === "docker") {
        await removeImages(Array.from({ length: Math.max(...config.fleetSizes) }, (_, i) => `airbyte-bench/source-fleet-${String(i + 1).padStart(3, "0")}:0.1.0`));
      }
    });
    const runs = await runFleet(config, ctx.work, ctx.catalog, ctx.baseImage, fleetImages);
    return { concurrency: config.fleetConcurrency, output: config.fleetOutput, connector: "examples/source-hello (renamed copies)", runs };
  },
  report,
  targets,
};
