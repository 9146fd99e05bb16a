// The peer: the same N connectors built the way a team does without this toolkit (a Dockerfile per
// connector, the seed's best variant on the same published base, plain `docker build` at the same
// concurrency, then `docker run <image> spec`), against the common build (buildConnectors), cold
// and warm, in the same run.
import { randomBytes } from "node:crypto";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BaseImageCatalog, Platform } from "@airbyte-ci/base-images";
import { buildConnectors, type BuildPhase, type ConnectorBuildResult } from "../../src/build/build-connectors.ts";
import { DockerEngine } from "../../src/engines/docker/docker-engine.ts";
import { createLimiter } from "../../src/shared/pool.ts";
import { writeFleetConnector } from "./connectors.ts";
import { BenchError, dockerBuild, removeImages, runSpec, vertexTimings } from "./docker.ts";
import { ratio, seconds } from "./stats.ts";
import { variantDockerfile } from "./variants.ts";

const PLATFORM: Platform = "linux/amd64";
/** The seed variant the peer uses: 3 (dependencies before code) is the best one over cold, code-only and dependency rebuilds. */
export const PEER_VARIANT = 3;

type Way = "common" | "peer";
type Cache = "cold" | "warm";

/** The common build's time per phase, summed over connectors (ms), and BuildKit's own vertices inside `build`. */
export interface PhaseBreakdown {
  /** buildConnectors phases: prepare (metadata, base image, hooks), build (engine), verify (spec container), output (tag/export). */
  phases: Partial<Record<BuildPhase, number>>;
  /** Inside the engine build, from BuildKit's progress: context transfer, steps, image export, other (ms, summed). */
  buildkit: Record<"context transfer" | "steps" | "export" | "other", number>;
}

export interface PeerMeasurement {
  way: Way;
  cache: Cache;
  totalMs: number;
  perConnectorMs: number;
  /** Common build only. */
  breakdown?: PhaseBreakdown;
}

export interface PeerRun {
  n: number;
  /** Which way ran first in each repetition (alternated). */
  order: Way[][];
  /** Every measurement, all repetitions. */
  measurements: PeerMeasurement[];
}

export interface PeerSettings {
  readonly sizes: readonly number[];
  readonly concurrency: number;
  /** Repetitions for sizes up to 20 (medians reported); larger sizes run once. */
  readonly repetitions: number;
  readonly work: string;
  readonly catalog: BaseImageCatalog;
  /** The published base by digest, the FROM of both ways. */
  readonly baseImage: string;
  readonly exampleDir: string;
  readonly pipIndexUrl: string;
  readonly log: (message: string) => void;
  /** Image ids and tags to remove at the end. */
  readonly images: string[];
  /** Called after each size with the runs so far (a long N=100 run is not lost if stopped). */
  readonly onProgress?: (runs: readonly PeerRun[]) => void;
}

function breakdownOf(results: readonly ConnectorBuildResult[], lines: ReadonlyMap<string, string[]>): PhaseBreakdown {
  const phases: Partial<Record<BuildPhase, number>> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.phasesMs ?? {})) phases[k as BuildPhase] = (phases[k as BuildPhase] ?? 0) + v;
  const buildkit = { "context transfer": 0, steps: 0, export: 0, other: 0 };
  for (const list of lines.values()) {
    for (const v of vertexTimings(list)) {
      const ms = v.seconds * 1000;
      if (/load build context|transferring context/.test(v.title)) buildkit["context transfer"] += ms;
      else if (/^exporting|writing image|naming to/.test(v.title)) buildkit.export += ms;
      else if (/^\[(?:stage-\d+ )?\s*\d+\/\d+\]/.test(v.title)) buildkit.steps += ms;
      else buildkit.other += ms;
    }
  }
  return { phases, buildkit };
}

async function runCommon(s: PeerSettings, dirs: readonly string[]): Promise<{ ms: number; breakdown: PhaseBreakdown }> {
  const lines = new Map<string, string[]>();
  const started = performance.now();
  const results = await buildConnectors(dirs, {
    engine: new DockerEngine(),
    catalog: s.catalog,
    platforms: [PLATFORM],
    output: { kind: "docker" },
    concurrency: s.concurrency,
    pipIndex: { indexUrl: s.pipIndexUrl },
    onProgress: (connector, line) => {
      const list = lines.get(connector) ?? [];
      list.push(line);
      lines.set(connector, list);
    },
  });
  const ms = performance.now() - started;
  const failed = results.find((r) => r.status !== "success");
  if (failed) throw new BenchError(`common build of ${failed.connector} failed: ${failed.error?.code}: ${failed.error?.message}`);
  s.images.push(...results.flatMap((r) => r.platforms.map((p) => p.imageId)));
  return { ms, breakdown: breakdownOf(results, lines) };
}

function peerTag(dir: string): string {
  return `airbyte-bench-peer/${dir.split("/").at(-1) as string}:0.1.0`;
}

async function runPeer(s: PeerSettings, dirs: readonly string[], dockerfiles: ReadonlyMap<string, string>): Promise<number> {
  const limit = createLimiter(s.concurrency);
  const host = new URL(s.pipIndexUrl).hostname;
  const started = performance.now();
  await Promise.all(
    dirs.map((dir) =>
      limit(async () => {
        const built = await dockerBuild({
          contextDir: dir,
          dockerfile: dockerfiles.get(dir) as string,
          tag: peerTag(dir),
          buildArgs: { PIP_INDEX_URL: s.pipIndexUrl, PIP_TRUSTED_HOST: host },
          workDir: s.work,
        });
        s.images.push(built.imageId);
        await runSpec(peerTag(dir));
      }),
    ),
  );
  return performance.now() - started;
}

/**
 * Makes the next build of these connectors cold without touching the shared BuildKit cache: a
 * unique comment in setup.py, which both ways copy before their dependency install, so every step
 * from there on runs again. (A global `docker builder prune` is not used: on this shared daemon it
 * raced with another build's pull and crashed dockerd 20.10, a BuildKit nil pointer in GetByBlob.)
 */
function invalidate(dirs: readonly string[]): void {
  const key = randomBytes(6).toString("hex");
  for (const dir of dirs) appendFileSync(join(dir, "setup.py"), `# bench cold key ${key}\n`);
}

/** Runs both ways for each size, cold (every connector step runs: see invalidate) then warm (the same build again). */
export async function runPeerComparison(s: PeerSettings): Promise<PeerRun[]> {
  const largest = Math.max(...s.sizes);
  const parent = join(s.work, "peer");
  const dockerfileDir = join(s.work, "peer-dockerfiles");
  mkdirSync(parent, { recursive: true });
  mkdirSync(dockerfileDir, { recursive: true });
  const dirs = Array.from({ length: largest }, (_, i) => writeFleetConnector(parent, s.exampleDir, `source-peer-${String(i + 1).padStart(3, "0")}`, s.baseImage));
  const dockerfiles = new Map<string, string>();
  for (const dir of dirs) {
    const name = dir.split("/").at(-1) as string;
    const path = join(dockerfileDir, `${name}.Dockerfile`);
    writeFileSync(path, variantDockerfile(PEER_VARIANT, { rootImage: s.baseImage, technicalName: name, packageDir: name.replaceAll("-", "_"), version: "0.1.0" }));
    dockerfiles.set(dir, path);
  }
  const tags = dirs.flatMap((d) => [peerTag(d), `airbyte-bench/${d.split("/").at(-1) as string}:0.1.0`]);
  s.images.push(...tags);
  const runs: PeerRun[] = [];
  for (const [index, n] of s.sizes.entries()) {
    const run: PeerRun = { n, order: [], measurements: [] };
    const reps = n > 20 ? 1 : s.repetitions;
    for (let r = 0; r < reps; r++) {
      const order: Way[] = (index + r) % 2 === 0 ? ["peer", "common"] : ["common", "peer"];
      run.order.push(order);
      for (const way of order) {
        await removeImages([...s.images.splice(0), ...tags]);
        s.images.push(...tags);
        const selected = dirs.slice(0, n);
        invalidate(selected);
        for (const cache of ["cold", "warm"] as const) {
          const m: PeerMeasurement =
            way === "common"
              ? await runCommon(s, selected).then(({ ms, breakdown }) => ({ way, cache, totalMs: ms, perConnectorMs: ms / n, breakdown }))
              : await runPeer(s, selected, dockerfiles).then((ms) => ({ way, cache, totalMs: ms, perConnectorMs: ms / n }));
          run.measurements.push(m);
          s.log(`  peer table N=${n} (${r + 1}/${reps}) ${way} ${cache}: ${seconds(m.totalMs)} (${seconds(m.perConnectorMs)} per connector)`);
        }
      }
    }
    runs.push(run);
    s.onProgress?.(runs);
  }
  return runs;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The median measurement of a way (its breakdown: the one of the median repetition). */
function find(run: PeerRun, way: Way, cache: Cache): PeerMeasurement | undefined {
  const all = run.measurements.filter((m) => m.way === way && m.cache === cache);
  if (all.length === 0) return undefined;
  const mid = median(all.map((m) => m.totalMs));
  const closest = [...all].sort((a, b) => Math.abs(a.totalMs - mid) - Math.abs(b.totalMs - mid))[0] as PeerMeasurement;
  return { ...closest, totalMs: mid, perConnectorMs: mid / run.n };
}

/** The peer table and the common build's per-phase breakdown, as printed and put in the README. */
export function renderPeerReport(runs: readonly PeerRun[], concurrency: number): string[] {
  const out = [
    "",
    `Peer: medians (N ≤ 20: of the repetitions; N > 20: one run) over N copies of examples/source-hello; common build (buildConnectors, output docker) vs a Dockerfile per connector (seed variant ${PEER_VARIANT}, FROM the same published base by digest), docker build + docker run spec, both at concurrency ${concurrency}`,
  ];
  const rows = [["N", "cache", "common", "peer", "common ÷ peer", "common per connector", "peer per connector"]];
  for (const r of runs) {
    for (const cache of ["cold", "warm"] as const) {
      const c = find(r, "common", cache);
      const p = find(r, "peer", cache);
      if (!c || !p) continue;
      rows.push([String(r.n), cache, seconds(c.totalMs), seconds(p.totalMs), ratio(c.totalMs, p.totalMs), seconds(c.perConnectorMs), seconds(p.perConnectorMs)]);
    }
  }
  out.push(table(rows), "", "Common build, where the time goes (summed over connectors; phases overlap across connectors at concurrency > 1):");
  const phaseRows = [["N", "cache", "prepare (metadata, base, hooks)", "engine build", "of which context", "of which export", "spec container", "tag/output"]];
  for (const r of runs) {
    for (const cache of ["cold", "warm"] as const) {
      const b = find(r, "common", cache)?.breakdown;
      if (!b) continue;
      phaseRows.push([
        String(r.n),
        cache,
        seconds(b.phases.prepare ?? 0),
        seconds(b.phases.build ?? 0),
        seconds(b.buildkit["context transfer"]),
        seconds(b.buildkit.export),
        seconds(b.phases.verify ?? 0),
        seconds(b.phases.output ?? 0),
      ]);
    }
  }
  out.push(table(phaseRows));
  return out;
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows
    .map((r, ri) => {
      const line = r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
      return ri === 0 ? `${line}\n${widths.map((w) => "-".repeat(w)).join("  ")}` : line;
    })
    .join("\n");
}

/** The targets: common ≤ 1.0× the peer at every N (cold and warm), per-connector cost falling from 20 to 100. */
export function peerTargets(runs: readonly PeerRun[]): Array<{ id: string; description: string; status: "PASS" | "MISS" | "SKIP"; figures: string }> {
  const ratios = runs.flatMap((r) =>
    (["cold", "warm"] as const).flatMap((cache) => {
      const c = find(r, "common", cache);
      const p = find(r, "peer", cache);
      return c && p ? [{ n: r.n, cache, value: c.totalMs / p.totalMs }] : [];
    }),
  );
  const at = (n: number) => runs.find((r) => r.n === n);
  const [r20, r100] = [at(20), at(100)];
  const cost = (r: PeerRun | undefined) => (r ? find(r, "common", "cold")?.perConnectorMs : undefined);
  const [c20, c100] = [cost(r20), cost(r100)];
  return [
    {
      id: "peer-ratio",
      description: "common build ≤ 1.0× the hand-written peer at every N, cold and warm",
      status: ratios.length === 0 ? "SKIP" : ratios.every((r) => r.value <= 1.0) ? "PASS" : "MISS",
      figures: ratios.map((r) => `N=${r.n} ${r.cache} ${r.value.toFixed(2)}×`).join(", ") || "peer section not run",
    },
    {
      id: "peer-cost-falls",
      description: "common build's cold cost per connector falls from N=20 to N=100",
      status: c20 === undefined || c100 === undefined ? "SKIP" : c100 < c20 ? "PASS" : "MISS",
      figures: c20 === undefined || c100 === undefined ? "N=20 and N=100 not both measured" : `${seconds(c20)} at 20, ${seconds(c100)} at 100`,
    },
  ];
}
